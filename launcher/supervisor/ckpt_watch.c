/*
 * ckpt_watch.c - checkpoints as the supervisor sees them: the newest complete one, where a
 * restart resumes from, and the --checkpoint-max-age watch while the job runs. What counts as
 * complete is checkpoint.c's business.
 */
#include "checkpoint.h"
#include "sv.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/*
 * One scan of --checkpoint-dir, saying once a newer entry that is not complete. 1 with the
 * scan, 0 with no directory, -errno.
 */
static int scan_dir(struct sv *s, struct fd_ckpt_scan *scan)
{
	int r;

	if (!s->o->checkpoint_dir)
		return 0;
	r = fd_ckpt_newest(s->o->checkpoint_dir, s->o->checkpoint_marker, scan);
	if (r)
		return r;
	prom_learn_ckpt(s, scan);
	if (*scan->skipped)
		ev_say(s, "skipping %s: not complete (no completion marker)", scan->skipped);
	return 1;
}

/*
 * The newest complete checkpoint under --checkpoint-dir into out ("" when none or no
 * directory), naming a newer one that is not complete. 0 or -errno.
 */
int ckpt_newest(struct sv *s, char *out, size_t len)
{
	struct fd_ckpt_scan scan;
	int r = scan_dir(s, &scan);

	out[0] = '\0';
	if (r > 0)
		fd_strlcpy(out, scan.newest, len);
	return r < 0 ? r : 0;
}

/*
 * The complete checkpoints this node sees, newest first, by name: what it tells the group,
 * which resumes every node from the newest one they all hold. 0 or -errno.
 */
int ckpt_list(struct sv *s, struct fd_node_state *me)
{
	struct fd_ckpt_scan scan;
	int r = scan_dir(s, &scan);

	me->nckpts = 0;
	if (r <= 0)
		return r;
	for (int i = 0; i < scan.nnames && i < FD_GROUP_CKPTS; i++)
		fd_strlcpy(me->ckpts[i], scan.names[i], sizeof(me->ckpts[i]));
	me->nckpts = scan.nnames < FD_GROUP_CKPTS ? scan.nnames : FD_GROUP_CKPTS;
	return 0;
}

/* The path of the checkpoint name under --checkpoint-dir; "" for none. */
void ckpt_path(struct sv *s, const char *name, char *out, size_t len)
{
	if (!*name || !s->o->checkpoint_dir) {
		*out = '\0';
		return;
	}
	snprintf(out, len, "%s/%s", s->o->checkpoint_dir, name);
}

/* Says it, once per checkpoint, when the newest complete one is older than the max age. */
static void judge_age(struct sv *s, const struct fd_ckpt_scan *scan)
{
	struct sup_ckpt_age *c = &s->ckpt;
	double age, limit = (double)s->o->checkpoint_max_age_ms / 1000;
	char a[32], l[32];

	age = fd_wall_s() - (*scan->newest ? scan->newest_time : c->start_wall);
	if (age <= limit)
		return;
	if (*scan->newest ? !strcmp(scan->newest, c->warned) : c->warned_none)
		return;
	fd_fmt_duration((int64_t)(age * 1000), a, sizeof(a));
	fd_fmt_duration(s->o->checkpoint_max_age_ms, l, sizeof(l));
	if (*scan->newest) {
		fd_strlcpy(c->warned, scan->newest, sizeof(c->warned));
		ev_say(s,
		       "the newest complete checkpoint, %s, is %s old (--checkpoint-max-age %s): "
		       "a failure now loses all that training",
		       scan->newest, a, l);
	} else {
		c->warned_none = 1;
		ev_say(s,
		       "no complete checkpoint in %s after %s (--checkpoint-max-age %s): a "
		       "failure now loses all of this run",
		       s->o->checkpoint_dir, a, l);
	}
	cJSON *o = cJSON_CreateObject();

	if (o)
		cJSON_AddNumberToObject(o, "age_s", age);
	ev_emit(s, "checkpoint_overdue", RANK_NONE, s->ranks.max_step, scan->newest, -1, o);
}

/* The newest checkpoint's age is watched while the job runs: for --checkpoint-max-age, and
 * for --prom-file's flightdeck_run_checkpoint_age_seconds. */
int ckpt_watching(const struct sv *s)
{
	return s->o->checkpoint_dir && (s->o->checkpoint_max_age_ms || s->o->prom_file);
}

/*
 * The 68-hours-without-a-checkpoint incident: while the job runs, the newest complete
 * checkpoint must not grow older than --checkpoint-max-age. The scan runs in slices of
 * CKPT_SLICE_ENTRIES entries, one per wake-up of the loop, so a directory of 100k entries
 * (1-2 s of fstatat) never keeps the loop from the heartbeat socket for more than a slice;
 * a scan that is still walking asks to be woken again at once. --prom-file alone scans the
 * same way, once every CKPT_CHECK_MAX_MS, for the age it exports.
 */
void ckpt_age_check(struct sv *s, int64_t now)
{
	struct sup_ckpt_age *c = &s->ckpt;
	int64_t every = s->o->checkpoint_max_age_ms / CKPT_CHECKS_PER_AGE;
	int r = 0;

	if (!s->o->checkpoint_max_age_ms || every > CKPT_CHECK_MAX_MS)
		every = CKPT_CHECK_MAX_MS;
	if (!c->walking) {
		r = fd_ckpt_walk_begin(&c->walk, s->o->checkpoint_dir, s->o->checkpoint_marker);
		c->walking = !r;
	}
	if (c->walking) {
		r = fd_ckpt_walk_step(&c->walk, CKPT_SLICE_ENTRIES);
		if (r > 0) {
			c->next_check = now; /* the rest in the next slice, after the loop's fds */
			return;
		}
		c->walking = 0;
		fd_ckpt_walk_end(&c->walk);
	}
	c->next_check = now + (every > 0 ? every : 1) * MS;
	if (r)
		return;
	prom_learn_ckpt(s, &c->walk.out);
	if (s->o->checkpoint_max_age_ms)
		judge_age(s, &c->walk.out);
}

void ckpt_watch_close(struct sv *s)
{
	fd_ckpt_walk_end(&s->ckpt.walk);
	s->ckpt.walking = 0;
}
