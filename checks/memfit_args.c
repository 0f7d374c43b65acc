/*
 * memfit_args.c - the options that describe a training job to memfit, shared by
 * `flightdeck memfit` and the memfit area of `flightdeck check` (its `memfit` tunable holds
 * the same options as one string).
 */
#define _GNU_SOURCE
#include "memfit_args.h"
#include "nvml.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	O_PARAMS = 256,
	O_MODEL,
	O_HF,
	O_LAYERS,
	O_HIDDEN,
	O_HEADS,
	O_KV,
	O_FFN,
	O_VOCAB,
	O_EXPERTS,
	O_TOPK,
	O_ARCH,
	O_TIED,
	O_SEQ,
	O_MB,
	O_DTYPE,
	O_OPTIM,
	O_ZERO,
	O_FSDP,
	O_TP,
	O_PP,
	O_DP,
	O_GPUS,
	O_SP,
	O_RECOMPUTE,
	O_FLASH,
	O_LORA,
	O_QLORA,
	O_OFFLOAD,
	O_GPU_MEM,
	O_JSON,
	O_LIST,
};

static const struct option opts[] = {
    {"params", required_argument, NULL, O_PARAMS},
    {"model", required_argument, NULL, O_MODEL},
    {"hf-config", required_argument, NULL, O_HF},
    {"layers", required_argument, NULL, O_LAYERS},
    {"hidden", required_argument, NULL, O_HIDDEN},
    {"heads", required_argument, NULL, O_HEADS},
    {"kv-heads", required_argument, NULL, O_KV},
    {"ffn", required_argument, NULL, O_FFN},
    {"vocab", required_argument, NULL, O_VOCAB},
    {"experts", required_argument, NULL, O_EXPERTS},
    {"experts-per-token", required_argument, NULL, O_TOPK},
    {"arch", required_argument, NULL, O_ARCH},
    {"tied-embeddings", no_argument, NULL, O_TIED},
    {"seq", required_argument, NULL, O_SEQ},
    {"micro-batch", required_argument, NULL, O_MB},
    {"dtype", required_argument, NULL, O_DTYPE},
    {"optimizer", required_argument, NULL, O_OPTIM},
    {"zero", required_argument, NULL, O_ZERO},
    {"fsdp", no_argument, NULL, O_FSDP},
    {"tp", required_argument, NULL, O_TP},
    {"pp", required_argument, NULL, O_PP},
    {"dp", required_argument, NULL, O_DP},
    {"gpus", required_argument, NULL, O_GPUS},
    {"sequence-parallel", no_argument, NULL, O_SP},
    {"recompute", required_argument, NULL, O_RECOMPUTE},
    {"flash-attn", no_argument, NULL, O_FLASH},
    {"lora-rank", required_argument, NULL, O_LORA},
    {"qlora", no_argument, NULL, O_QLORA},
    {"offload", required_argument, NULL, O_OFFLOAD},
    {"gpu-mem", required_argument, NULL, O_GPU_MEM},
    {"json", no_argument, NULL, O_JSON},
    {"list-models", no_argument, NULL, O_LIST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int pick(const char *flag, const char *v, const char *const *names, int n, int *out,
		char *err, size_t len)
{
	char list[160] = "";

	for (int i = 0; i < n; i++) {
		if (!strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	}
	snprintf(err, len, "--%s: unknown value '%s' (%s)", flag, v, list);
	return -EINVAL;
}

/* A whole number of at least min ("--layers 0" is an error, as is "-3" or "x"). */
static int whole(const char *flag, const char *v, int min, int *out, char *err, size_t len)
{
	if (fd_parse_uint(v, out) || *out < min) {
		snprintf(err, len, "--%s: '%s' is not a whole number of at least %d", flag, v, min);
		return -EINVAL;
	}
	return 0;
}

static int offload(const char *v, int *out, char *err, size_t len)
{
	char buf[64], *save = NULL;

	*out = 0;
	fd_strlcpy(buf, v, sizeof(buf));
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "optimizer"))
			*out |= FD_OFFLOAD_OPTIMIZER;
		else if (!strcmp(t, "params"))
			*out |= FD_OFFLOAD_PARAMS;
		else if (strcmp(t, "none")) {
			snprintf(err, len,
				 "--offload: unknown value '%s' (optimizer, params, none)", t);
			return -EINVAL;
		}
	}
	return 0;
}

void fd_memfit_args_init(struct fd_memfit_args *a)
{
	memset(a, 0, sizeof(*a));
	a->job.seq = 2048;
	a->job.micro_batch = 1;
	a->job.dtype = FD_DT_BF16;
	a->job.optimizer = FD_OPT_ADAMW;
	a->job.tp = a->job.pp = a->job.dp = 1;
}

int fd_memfit_args_parse(int argc, char **argv, struct fd_memfit_args *a, char *err, size_t len)
{
	static const char *const dtypes[] = {"fp32", "bf16", "fp16", "fp8"};
	static const char *const optims[] = {"adamw", "adam8bit", "sgd", "sgd-momentum",
					     "adafactor"};
	static const char *const recomputes[] = {"none", "selective", "full"};
	static const char *const archs[] = {"llama", "gpt"};
	/* shape flags apply after --model / --hf-config, whatever their order */
	int shape[8] = {0}, have[8] = {0}, arch = -1, tied = 0, gpus = 0, dp_given = 0, c, v;
	const char *model = NULL, *hf = NULL;
	uint64_t n;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case O_PARAMS:
			if (fd_parse_count(optarg, &n) || n == 0) {
				snprintf(err, len,
					 "--params: '%s' is not a positive count (7e9, 7B, 70b)",
					 optarg);
				return -EINVAL;
			}
			a->model.params = (double)n;
			break;
		case O_MODEL:
			model = optarg;
			break;
		case O_HF:
			hf = optarg;
			break;
		case O_LAYERS:
		case O_HIDDEN:
		case O_HEADS:
		case O_KV:
		case O_FFN:
		case O_VOCAB:
		case O_EXPERTS:
		case O_TOPK:
			r = whole(opts[c - O_PARAMS].name, optarg, 1, &shape[c - O_LAYERS], err,
				  len);
			have[c - O_LAYERS] = 1;
			break;
		case O_ARCH:
			r = pick("arch", optarg, archs, 2, &arch, err, len);
			break;
		case O_TIED:
			tied = 1;
			break;
		case O_SEQ:
			r = whole("seq", optarg, 1, &v, err, len);
			a->job.seq = v;
			break;
		case O_MB:
			r = whole("micro-batch", optarg, 1, &v, err, len);
			a->job.micro_batch = v;
			break;
		case O_DTYPE:
			r = pick("dtype", optarg, dtypes, 4, &a->job.dtype, err, len);
			break;
		case O_OPTIM:
			r = pick("optimizer", optarg, optims, 5, &a->job.optimizer, err, len);
			break;
		case O_ZERO:
			r = whole("zero", optarg, 0, &a->job.zero, err, len);
			if (!r && a->job.zero > 3) {
				snprintf(err, len, "--zero: '%s' is not a stage (0, 1, 2, 3)",
					 optarg);
				r = -EINVAL;
			}
			break;
		case O_FSDP:
			a->job.zero = 3;
			break;
		case O_TP:
			r = whole("tp", optarg, 1, &a->job.tp, err, len);
			break;
		case O_PP:
			r = whole("pp", optarg, 1, &a->job.pp, err, len);
			break;
		case O_DP:
			r = whole("dp", optarg, 1, &a->job.dp, err, len);
			dp_given = 1;
			break;
		case O_GPUS:
			r = whole("gpus", optarg, 1, &gpus, err, len);
			break;
		case O_SP:
			a->job.sequence_parallel = 1;
			break;
		case O_RECOMPUTE:
			r = pick("recompute", optarg, recomputes, 3, &a->job.recompute, err, len);
			break;
		case O_FLASH:
			a->job.flash_attn = 1;
			break;
		case O_LORA:
			r = whole("lora-rank", optarg, 1, &a->job.lora_rank, err, len);
			break;
		case O_QLORA:
			a->job.qlora = 1;
			break;
		case O_OFFLOAD:
			r = offload(optarg, &a->job.offload, err, len);
			break;
		case O_GPU_MEM:
			if (fd_parse_size(optarg, &a->gpu_mem) || !a->gpu_mem) {
				snprintf(err, len,
					 "--gpu-mem: '%s' is not a size (80GiB, 141G, 24GB)",
					 optarg);
				return -EINVAL;
			}
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_LIST:
			a->list = 1;
			break;
		case 'h':
			a->help = 1;
			break;
		case ':':
			snprintf(err, len, "%s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, len, "unknown option '%s'", argv[optind - 1]);
			return -EINVAL;
		}
		if (r)
			return r;
	}
	if (optind < argc) {
		snprintf(err, len, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (a->help || a->list)
		return 0;
	if (!!model + !!hf + (a->model.params > 0) > 1) {
		snprintf(err, len, "give one of --model, --hf-config and --params");
		return -EINVAL;
	}
	if (model && fd_model_preset(model, &a->model)) {
		snprintf(err, len, "--model: unknown model '%s' (see --list-models)", model);
		return -EINVAL;
	}
	if (hf && fd_model_hf_config(hf, &a->model, err, len))
		return -EINVAL;
	int *dst[8] = {
	    &a->model.layers, &a->model.hidden, &a->model.heads,   &a->model.kv_heads,
	    &a->model.ffn,    &a->model.vocab,	&a->model.experts, &a->model.experts_per_token};

	for (int i = 0; i < 8; i++)
		if (have[i])
			*dst[i] = shape[i];
	if (!model && !hf && (have[0] || have[1])) {
		/* a shape given directly: Llama-style unless --arch gpt */
		a->model.gated = arch != 1;
		a->model.gpt = arch == 1;
		snprintf(a->model.name, sizeof(a->model.name), "custom");
	} else if (arch >= 0) {
		a->model.gated = arch == 0;
		a->model.gpt = arch == 1;
	}
	if (tied)
		a->model.tied = 1;
	if (a->model.experts && !a->model.experts_per_token)
		a->model.experts_per_token = 2;
	if (a->model.params > 0 && !a->model.name[0])
		snprintf(a->model.name, sizeof(a->model.name), "%.3g B parameters",
			 a->model.params / 1e9);
	if (a->job.qlora && !a->job.lora_rank)
		a->job.lora_rank = 64;
	if (gpus) {
		int mp = a->job.tp * a->job.pp;

		if (gpus % mp) {
			snprintf(err, len, "--gpus %d is not a multiple of tp x pp = %d", gpus, mp);
			return -EINVAL;
		}
		if (dp_given && a->job.dp * mp != gpus) {
			snprintf(err, len, "--gpus %d does not equal tp x pp x dp = %d", gpus,
				 a->job.dp * mp);
			return -EINVAL;
		}
		a->job.dp = gpus / mp;
	}
	return fd_memfit_validate(&a->model, &a->job, err, len);
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
