/*
 * ckpt_watch.c - checkpoints as the supervisor sees them: the newest complete one, where a
 * restart resumes from, and the --checkpoint-max-age watch while the job runs. What counts as
 * complete is checkpoint.c's business.
 */
#include "checkpoint.h"
#include "sv.h"
#include "util.h"

#include <string.h>

/*
 * The newest complete checkpoint under --checkpoint-dir into out ("" when none or no
 * directory), naming a newer one that is not complete. 0 or -errno.
 */
int ckpt_newest(struct sv *s, char *out, size_t len)
{
	struct fd_ckpt_scan scan;
	int r;

	out[0] = '\0';
	if (!s->o->checkpoint_dir)
		return 0;
	r = fd_ckpt_newest(s->o->checkpoint_dir, s->o->checkpoint_marker, &scan);
	if (r)
		return r;
	if (*scan.skipped)
		sup_say(s, "skipping %s: not complete (no completion marker)", scan.skipped);
	fd_strlcpy(out, scan.newest, len);
	return 0;
}

/*
 * The 68-hours-without-a-checkpoint incident: while the job runs, the newest complete
 * checkpoint must not grow older than --checkpoint-max-age. Said once per checkpoint.
 */
void ckpt_age_check(struct sv *s, int64_t now)
{
	struct sup_ckpt_age *c = &s->ckpt;
	struct fd_ckpt_scan scan;
	double age, limit = (double)s->o->checkpoint_max_age_ms / 1000;
	char a[32], l[32];
	int64_t every = s->o->checkpoint_max_age_ms / CKPT_CHECKS_PER_AGE;

	if (every > CKPT_CHECK_MAX_MS)
		every = CKPT_CHECK_MAX_MS;
	c->next_check = now + (every > 0 ? every : 1) * MS;
	if (fd_ckpt_newest(s->o->checkpoint_dir, s->o->checkpoint_marker, &scan))
		return;
	age = fd_wall_s() - (*scan.newest ? scan.newest_time : c->start_wall);
	if (age <= limit)
		return;
	if (*scan.newest ? !strcmp(scan.newest, c->warned) : c->warned_none)
		return;
	fd_fmt_duration((int64_t)(age * 1000), a, sizeof(a));
	fd_fmt_duration(s->o->checkpoint_max_age_ms, l, sizeof(l));
	if (*scan.newest) {
		fd_strlcpy(c->warned, scan.newest, sizeof(c->warned));
		sup_say(s,
			"the newest complete checkpoint, %s, is %s old (--checkpoint-max-age %s): "
			"a failure now loses all that training",
			scan.newest, a, l);
	} else {
		c->warned_none = 1;
		sup_say(s,
			"no complete checkpoint in %s after %s (--checkpoint-max-age %s): a "
			"failure now loses all of this run",
			s->o->checkpoint_dir, a, l);
	}
	cJSON *o = cJSON_CreateObject();

	if (o)
		cJSON_AddNumberToObject(o, "age_s", age);
	sup_event(s, "checkpoint_overdue", RANK_NONE, s->ranks.max_step, scan.newest, -1, o);
}
