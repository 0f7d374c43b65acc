/*
 * memfit_args.c - the options that describe a training job to memfit, shared by
 * `flightdeck memfit` and the memfit area of `flightdeck check` (its `memfit` tunable holds
 * the same options as one string). The options are rows of launcher/core/opts.h; what they say is
 * resolved into a model and a job afterwards (presets first, then the shape flags).
 */
#define _GNU_SOURCE
#include "memfit_args.h"
#include "nvml.h"
#include "opts.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What the command line says before it is resolved into a model and a job: the shape flags
 * apply after --model / --hf-config whatever their order, --gpus needs tp and pp first.
 */
struct memfit_cli {
	struct fd_memfit_args a;
	uint64_t params; /* 0: not given */
	const char *model, *hf;
	int shape
	    [8];  /* layers, hidden, heads, kv-heads, ffn, vocab, experts, top-k; 0: not given */
	int arch; /* -1: not given, 0 llama, 1 gpt */
	int tied, gpus, dp; /* 0: not given */
};

#define CLI(f) offsetof(struct memfit_cli, f)
#define POS    .min = 1, .max = INT_MAX

static int set_fsdp(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	((struct memfit_cli *)obj)->a.job.zero = 3;
	return 0;
}

static int set_offload(const struct fd_opt *o, void *obj, const char *v, char *err, size_t len)
{
	char buf[64], *save = NULL;
	int *out = &((struct memfit_cli *)obj)->a.job.offload;

	*out = 0;
	fd_strlcpy(buf, v, sizeof(buf));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "optimizer"))
			*out |= FD_OFFLOAD_OPTIMIZER;
		else if (!strcmp(t, "params"))
			*out |= FD_OFFLOAD_PARAMS;
		else if (strcmp(t, "none")) {
			snprintf(err, len, "offload: unknown value '%s' (optimizer, params, none)",
				 t);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *const dtypes[] = {"fp32", "bf16", "fp16", "fp8", NULL};
static const char *const optims[] = {"adamw", "adam8bit", "sgd", "sgd-momentum", "adafactor", NULL};
static const char *const recomputes[] = {"none", "selective", "full", NULL};
static const char *const archs[] = {"llama", "gpt", NULL};

static const struct fd_opt model_rows[] = {
    {.name = "model",
     .metavar = "NAME",
     .help = "a preset (--list-models): llama-2-7b/13b/70b, llama-3-8b/70b,\n"
	     "mistral-7b, mixtral-8x7b, gpt-3-175b, gpt-2-1.5b",
     .type = FD_OPT_STRING,
     .off = CLI(model)},
    {.name = "hf-config",
     .metavar = "FILE",
     .help = "a Hugging Face config.json",
     .type = FD_OPT_STRING,
     .off = CLI(hf)},
    {.name = "params",
     .metavar = "N",
     .help = "only the count (7e9, 7B, 70b): activations are then unknown",
     .type = FD_OPT_COUNT,
     .min = 1,
     .max = 1.8e19,
     .off = CLI(params)},
    {.name = "layers",
     .metavar = "N",
     .help = "the shape (overrides a preset's fields): transformer layers",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[0])},
    {.name = "hidden",
     .metavar = "N",
     .help = "hidden size",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[1])},
    {.name = "heads",
     .metavar = "N",
     .help = "attention heads",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[2])},
    {.name = "kv-heads",
     .metavar = "N",
     .help = "key/value heads (GQA) [the heads]",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[3])},
    {.name = "ffn",
     .metavar = "N",
     .help = "feed-forward size [from hidden and --arch]",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[4])},
    {.name = "vocab",
     .metavar = "N",
     .help = "vocabulary size",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[5])},
    {.name = "experts",
     .metavar = "N",
     .help = "experts per MoE layer",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[6])},
    {.name = "experts-per-token",
     .metavar = "K",
     .help = "experts each token goes to [2 with --experts]",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(shape[7])},
    {.name = "arch",
     .metavar = "llama|gpt",
     .help = "gated (llama) or plain (gpt) MLP [llama]",
     .type = FD_OPT_ENUM,
     .off = CLI(arch),
     .words = archs},
    {.name = "tied-embeddings",
     .help = "input and output embeddings shared",
     .type = FD_OPT_FLAG,
     .off = CLI(tied)},
};

static const struct fd_opt job_rows[] = {
    {.name = "seq",
     .metavar = "N",
     .help = "sequence length",
     .type = FD_OPT_UINT64,
     .def = "2048",
     POS,
     .off = CLI(a.job.seq)},
    {.name = "micro-batch",
     .metavar = "N",
     .help = "sequences per GPU per step",
     .type = FD_OPT_UINT64,
     .def = "1",
     POS,
     .off = CLI(a.job.micro_batch)},
    {.name = "dtype",
     .metavar = "fp32|bf16|fp16|fp8",
     .help = "the training precision",
     .type = FD_OPT_ENUM,
     .def = "bf16",
     .off = CLI(a.job.dtype),
     .words = dtypes},
    {.name = "optimizer",
     .metavar = "NAME",
     .help = "adamw, adam8bit, sgd, sgd-momentum or adafactor",
     .type = FD_OPT_ENUM,
     .def = "adamw",
     .off = CLI(a.job.optimizer),
     .words = optims},
    {.name = "zero",
     .metavar = "0|1|2|3",
     .help = "ZeRO stage",
     .type = FD_OPT_UINT,
     .def = "0",
     .min = 0,
     .max = 3,
     .off = CLI(a.job.zero)},
    {.name = "fsdp", .help = "= ZeRO-3", .type = FD_OPT_FLAG, .set = set_fsdp},
    {.name = "tp",
     .metavar = "N",
     .help = "tensor-parallel ways",
     .type = FD_OPT_UINT,
     .def = "1",
     POS,
     .off = CLI(a.job.tp)},
    {.name = "pp",
     .metavar = "N",
     .help = "pipeline-parallel stages",
     .type = FD_OPT_UINT,
     .def = "1",
     POS,
     .off = CLI(a.job.pp)},
    {.name = "dp",
     .metavar = "N",
     .help = "data-parallel ways [--gpus / (tp x pp), else 1]",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(dp)},
    {.name = "gpus",
     .metavar = "N",
     .help = "GPUs in all: dp = N / (tp x pp)",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(gpus)},
    {.name = "sequence-parallel",
     .help = "Megatron sequence parallelism (with --tp)",
     .type = FD_OPT_FLAG,
     .off = CLI(a.job.sequence_parallel)},
    {.name = "recompute",
     .metavar = "none|selective|full",
     .help = "activation recomputation",
     .type = FD_OPT_ENUM,
     .def = "none",
     .off = CLI(a.job.recompute),
     .words = recomputes},
    {.name = "flash-attn",
     .help = "flash attention (no seq x seq scores kept)",
     .type = FD_OPT_FLAG,
     .off = CLI(a.job.flash_attn)},
    {.name = "lora-rank",
     .metavar = "R",
     .help = "train LoRA adapters of rank R only",
     .type = FD_OPT_UINT,
     POS,
     .off = CLI(a.job.lora_rank)},
    {.name = "qlora",
     .help = "4-bit base weights, rank 64 unless given",
     .type = FD_OPT_FLAG,
     .off = CLI(a.job.qlora)},
    {.name = "offload",
     .metavar = "WHAT",
     .help = "optimizer, params or optimizer,params to CPU",
     .type = FD_OPT_STRING,
     .set = set_offload},
};

static const struct fd_opt output_rows[] = {
    {.name = "gpu-mem",
     .metavar = "SIZE",
     .help = "the GPU's memory (80GiB); default: the least free of this\n"
	     "node's GPUs, from NVML",
     .type = FD_OPT_SIZE,
     .min = 1,
     .max = 1.8446744073709552e19,
     .off = CLI(a.gpu_mem)},
    {.name = "json", .help = "one JSON document (bytes)", .type = FD_OPT_FLAG, .off = CLI(a.json)},
    {.name = "list-models",
     .help = "the presets and exit",
     .type = FD_OPT_FLAG,
     .off = CLI(a.list)},
    FD_OPT_HELP_ROW,
};

static void tables_of(struct memfit_cli *cli, struct fd_opt_table t[3])
{
	t[0] = (struct fd_opt_table){
	    .heading = "the model (one of --model, --hf-config, the shape, --params):",
	    .rows = model_rows,
	    .n = FD_ARRAY_SIZE(model_rows),
	    .obj = cli};
	t[1] = (struct fd_opt_table){
	    .heading = "the job:", .rows = job_rows, .n = FD_ARRAY_SIZE(job_rows), .obj = cli};
	t[2] = (struct fd_opt_table){.heading = "the GPU and the output:",
				     .rows = output_rows,
				     .n = FD_ARRAY_SIZE(output_rows),
				     .obj = cli};
}

void fd_memfit_args_init(struct fd_memfit_args *a)
{
	struct memfit_cli cli = {0};
	struct fd_opt_table t[3];

	tables_of(&cli, t);
	fd_opt_defaults(t, 3);
	cli.a.job.dp = 1; /* --dp has no row default: it is --gpus / (tp x pp) when given */
	*a = cli.a;
}

void fd_memfit_args_help(FILE *out)
{
	struct memfit_cli cli = {0};
	struct fd_opt_table t[3];

	tables_of(&cli, t);
	fd_opt_help(out, t, 3);
}

/* From what was given to a model and a job: presets, shape overrides, --gpus. */
static int resolve(struct memfit_cli *c, char *err, size_t len)
{
	struct fd_memfit_args *a = &c->a;
	int *dst[8] = {
	    &a->model.layers, &a->model.hidden, &a->model.heads,   &a->model.kv_heads,
	    &a->model.ffn,    &a->model.vocab,	&a->model.experts, &a->model.experts_per_token};

	if (c->params)
		a->model.params = (double)c->params;
	if (!!c->model + !!c->hf + (a->model.params > 0) > 1) {
		snprintf(err, len, "give one of --model, --hf-config and --params");
		return -EINVAL;
	}
	if (c->model && fd_model_preset(c->model, &a->model)) {
		snprintf(err, len, "--model: unknown model '%s' (see --list-models)", c->model);
		return -EINVAL;
	}
	if (c->hf && fd_model_hf_config(c->hf, &a->model, err, len))
		return -EINVAL;
	for (int i = 0; i < 8; i++)
		if (c->shape[i])
			*dst[i] = c->shape[i];
	if (!c->model && !c->hf && (c->shape[0] || c->shape[1])) {
		/* a shape given directly: Llama-style unless --arch gpt */
		a->model.gated = c->arch != 1;
		a->model.gpt = c->arch == 1;
		snprintf(a->model.name, sizeof(a->model.name), "custom");
	} else if (c->arch >= 0) {
		a->model.gated = c->arch == 0;
		a->model.gpt = c->arch == 1;
	}
	if (c->tied)
		a->model.tied = 1;
	if (a->model.experts && !a->model.experts_per_token)
		a->model.experts_per_token = 2;
	if (a->model.params > 0 && !a->model.name[0])
		snprintf(a->model.name, sizeof(a->model.name), "%.3g B parameters",
			 a->model.params / 1e9);
	if (a->job.qlora && !a->job.lora_rank)
		a->job.lora_rank = 64;
	if (c->dp)
		a->job.dp = c->dp;
	if (c->gpus) {
		/* 64 bits: 65536 x 65536 wrapped an int to 0, then --gpus % 0 was SIGFPE */
		int64_t mp = (int64_t)a->job.tp * a->job.pp, all;

		if (mp > FD_MEMFIT_MAX_GPUS) {
			snprintf(err, len, "--tp %d x --pp %d = %lld: more than %d GPUs", a->job.tp,
				 a->job.pp, (long long)mp, FD_MEMFIT_MAX_GPUS);
			return -EINVAL;
		}
		if (c->gpus % mp) {
			snprintf(err, len, "--gpus %d is not a multiple of tp x pp = %lld", c->gpus,
				 (long long)mp);
			return -EINVAL;
		}
		all = (int64_t)a->job.dp * mp;
		if (c->dp && all != c->gpus) {
			snprintf(err, len, "--gpus %d does not equal tp x pp x dp = %lld", c->gpus,
				 (long long)all);
			return -EINVAL;
		}
		a->job.dp = (int)(c->gpus / mp);
	}
	return fd_memfit_validate(&a->model, &a->job, err, len);
}

int fd_memfit_args_parse(int argc, char **argv, struct fd_memfit_args *a, char *err, size_t len)
{
	struct memfit_cli cli = {.a = *a, .arch = -1};
	struct fd_opt_table t[3];
	struct fd_opt_parser p = {.cmd = "memfit", .tables = t, .n_tables = 3};
	int rc;

	tables_of(&cli, t);
	rc = fd_opt_parse(&p, argc, argv, err, len);
	if (!rc && p.help)
		cli.a.help = 1;
	else if (!rc && !cli.a.list)
		rc = resolve(&cli, err, len);
	*a = cli.a;
	fd_opt_release(&p);
	return rc;
}

/* Splits a tunable's value on blanks into argv and parses it. */
int fd_memfit_args_parse_string(const char *s, struct fd_memfit_args *a, char *err, size_t len)
{
	char *copy = strdup(s), *save = NULL, *argv[64];
	int argc = 0, r;

	if (!copy)
		return -ENOMEM;
	argv[argc++] = "memfit";
	for (char *t = strtok_r(copy, " \t", &save); t && argc < 63;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	fd_memfit_args_init(a);
	r = fd_memfit_args_parse(argc, argv, a, err, len);
	free(copy);
	return r;
}

double fd_memfit_gpu_free(int *ngpus, char *why, size_t len)
{
	struct fd_nvml *n;
	unsigned int count = 0;
	double least = 0;

	*ngpus = 0;
	if (fd_nvml_session(&n, why, len))
		return 0;
	if (!n->DeviceGetMemoryInfo || n->DeviceGetCount(&count) || !count) {
		snprintf(why, len, "NVML reports no GPU memory");
		return 0;
	}
	for (unsigned int i = 0; i < count; i++) {
		fd_nvmlDevice_t h;
		struct fd_nvmlMemory m;

		if (n->DeviceGetHandleByIndex(i, &h) || n->DeviceGetMemoryInfo(h, &m))
			continue;
		if (!least || (double)m.free < least)
			least = (double)m.free;
		(*ngpus)++;
	}
	return least;
}
