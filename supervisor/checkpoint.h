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

struct fd_ckpt_scan {
	char newest[PATH_MAX];	/* the newest complete checkpoint, "" when none */
	char skipped[PATH_MAX]; /* a newer entry that is not complete, "" when none */
	int ncomplete;		/* how many complete checkpoints were found */
	double newest_time;	/* when the newest was completed, Unix seconds; 0 = none */
};

/*
 * Scans dir. A directory that does not exist yet is not an error (nothing saved yet: 0 and
 * no checkpoint). Returns -errno when dir cannot be read or is not a directory.
 */
int fd_ckpt_newest(const char *dir, const char *marker, struct fd_ckpt_scan *out);

/*
 * Builds the command for a launch: every argument equal to "{resume}" becomes the checkpoint
 * path; one containing it (--resume={resume}) has it substituted. With no checkpoint the
 * argument is dropped, and for a bare "{resume}" the flag before it too ("--resume {resume}").
 * Returns a malloc'd NULL-terminated array whose strings are malloc'd; free with
 * fd_argv_free. NULL on allocation failure.
 */
char **fd_resume_argv(char *const *argv, const char *ckpt);
void fd_argv_free(char **argv);

#endif
