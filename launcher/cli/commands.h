/*
 * commands.h - the subcommands. Each is cmd_NAME(argc, argv) with argv[0] the command's
 * name; each returns the process exit status and never calls exit() itself.
 */
#ifndef FD_COMMANDS_H
#define FD_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_beat(int argc, char **argv);
int cmd_memfit(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_gpu_wait(int argc, char **argv); /* internal, for run */

#endif
