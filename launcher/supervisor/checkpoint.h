/*
 * checkpoint.h - finding the newest complete checkpoint under a directory.
 *
 * "Complete" (docs/architecture.md, "Checkpoints"): the framework's completion marker is
 * present, or the user's own --checkpoint-marker. Candidates are the entries directly under
 * the directory:
 *   - a directory holding `.metadata` (torch.distributed.checkpoint writes it last),
 *   - a directory holding `trainer_state.json` (Hugging Face Trainer),
 *   - the tag a DeepSpeed `latest` file names (DeepSpeed rewrites `latest` after the save),
 *   - a regular file `*.pt`, `*.pth`, `*.ckpt`, `*.safetensors` (renamed into place, so a
 *     name with such a suffix is whole; `*.tmp`, `*.partial` and dot-files never count),
 *   - with a marker NAME given: only directories holding NAME.
 * Newest means the latest completion time (the marker's mtime, or the file's), names breaking
 * ties in version order. Nothing here writes, renames or deletes.
 */
#ifndef FD_CHECKPOINT_H
#define FD_CHECKPOINT_H

#include <limits.h>
#include <stddef.h>

/*
 * How many complete checkpoints a scan names: a multi-node group resumes from the newest one
 * that every node has whole, and a node that missed one save (or whose save of it was cut
 * short) must not stop the others from agreeing on the one before.
 */
#define FD_CKPT_LIST 16

struct fd_ckpt_scan {
	char newest[PATH_MAX];	/* the newest complete checkpoint, "" when none */
	char skipped[PATH_MAX]; /* a newer entry that is not complete, "" when none */
	int ncomplete;		/* how many complete checkpoints were found */
	double newest_time;	/* when the newest was completed, Unix seconds; 0 = none */
	/*
	 * The entry names (not paths: each node may mount the directory elsewhere) of the
	 * newest FD_CKPT_LIST complete checkpoints, newest first by the rule above; names[0] is
	 * newest's last component. Incomplete entries are never here.
	 */
	char names[FD_CKPT_LIST][NAME_MAX + 1];
	int nnames;
};

/*
 * The directory is the user's (docs/architecture.md, "Checkpoints"): nothing in it is opened
 * but `latest`, and that with O_NONBLOCK|O_NOFOLLOW, as a regular file only (a FIFO there
 * would block open() forever); entries are looked at with fstatat(AT_SYMLINK_NOFOLLOW). A
 * symlink counts only as `NAME` -> a sibling regular file (a relative target without '/',
 * or DIR/target): one out of the directory, or dangling, does not.
 *
 * A scan is a walk that can be taken in slices (fd_ckpt_walk_step), so a directory of 100k
 * entries never holds the supervisor's loop for long: the loop runs a slice per wake-up.
 */
struct fd_ckpt_walk {
	void *d; /* DIR *, NULL when done */
	int dfd;
	char dir[PATH_MAX];
	const char *marker;
	char ds_tag[NAME_MAX + 1]; /* the tag DeepSpeed's `latest` names, already listed */
	long long t[FD_CKPT_LIST]; /* the completion times of out.names, in ns */
	char skip[NAME_MAX + 1];
	long long skip_t;
	struct fd_ckpt_scan out; /* out.names and out.nnames grow while walking */
};

/* Opens dir: 0 (a directory that does not exist yet is a finished, empty walk) or -errno. */
int fd_ckpt_walk_begin(struct fd_ckpt_walk *w, const char *dir, const char *marker);
/*
 * Looks at up to max entries: 1 when more remain, 0 when done (result in w->out), -errno
 * (-ENAMETOOLONG when the newest's path would not fit PATH_MAX).
 */
int fd_ckpt_walk_step(struct fd_ckpt_walk *w, int max);
/* Releases a walk, finished or not. */
void fd_ckpt_walk_end(struct fd_ckpt_walk *w);

/*
 * Scans dir in one go. A directory that does not exist yet is not an error (nothing saved
 * yet: 0 and no checkpoint). Returns -errno when dir cannot be read or is not a directory.
 */
int fd_ckpt_newest(const char *dir, const char *marker, struct fd_ckpt_scan *out);

/*
 * Builds the command for a launch: every argument equal to "{resume}" becomes the checkpoint
 * path; one containing it (--resume={resume}, even twice) has every occurrence substituted.
 * With no checkpoint the argument is dropped, and for a bare "{resume}" the flag before it
 * too when that flag looks like a resume flag (its name holds "resume", "ckpt",
 * "checkpoint" or "load": "--resume {resume}"); any other flag stays ("--verbose {resume}").
 * Returns a malloc'd NULL-terminated array whose strings are malloc'd; free with
 * fd_argv_free. NULL on allocation failure.
 */
char **fd_resume_argv(char *const *argv, const char *ckpt);
void fd_argv_free(char **argv);

#endif
