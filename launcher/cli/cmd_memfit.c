/*
 * cmd_memfit.c - `flightdeck memfit`: will this training job fit in GPU memory, and if not,
 * what would make it fit. The arithmetic is checks/memfit.c; this prints it.
 */
#include "commands.h"
#include "memfit_args.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GIB 1073741824.0

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: flightdeck memfit MODEL [JOB] [--gpu-mem SIZE] [--json]\n"
	    "\n"
	    "Adds up what one GPU must hold for a training job (weights, gradients, optimizer\n"
	    "states, activations, logits, CUDA/NCCL/allocator overhead), compares it with the\n"
	    "GPU's free memory (NVML, else --gpu-mem) and, when it does not fit, computes the\n"
	    "cheapest changes that would. Exit 0 fits, 1 does not fit, 2 usage error, 3 cannot\n"
	    "judge (no GPU memory size, or activations unknown and the model states fit).\n");
	fd_memfit_args_help(out);
}

static const char *gib(double bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.2f GiB", bytes / GIB);
	return buf;
}

static void print_table(const struct fd_memfit_args *a, const struct fd_memfit *r, double free_b,
			const char *free_src, int fits, struct fd_memfit_suggestion *sg, int nsg)
{
	const struct fd_model *m = &a->model;
	const struct fd_job *j = &a->job;
	char b1[32], how[160];

	printf("flightdeck memfit: %s, %.2f B parameters\n", m->name, r->params / 1e9);
	printf(
	    "  seq %lld, micro-batch %lld, %s, %s, ZeRO-%d, tp %d, pp %d, dp %d, recompute %s%s%s",
	    (long long)j->seq, (long long)j->micro_batch, fd_dtype_name(j->dtype),
	    fd_optim_name(j->optimizer), j->zero, j->tp, j->pp, j->dp,
	    fd_recompute_name(j->recompute), j->sequence_parallel ? ", sequence parallel" : "",
	    j->flash_attn ? ", flash attention" : "");
	if (j->lora_rank)
		printf(", %sLoRA rank %d", j->qlora ? "Q" : "", j->lora_rank);
	if (j->offload)
		printf(", offload %s%s", j->offload & FD_OFFLOAD_OPTIMIZER ? "optimizer " : "",
		       j->offload & FD_OFFLOAD_PARAMS ? "params" : "");
	printf("\n\n  %-12s %12s   %s\n", "per GPU", "", "how");
	snprintf(how, sizeof(how), "%.3g B/param x %.3g B params held (tp x pp = %d)%s",
		 j->lora_rank && j->qlora ? FD_MEMFIT_NF4_BYTES : r->w_bytes, r->params_gpu / 1e9,
		 j->tp * j->pp,
		 j->offload & FD_OFFLOAD_PARAMS ? ", offloaded"
		 : j->zero >= 3			? ", / dp (ZeRO-3)"
						: "");
	printf("  %-12s %12s   %s\n", "weights", gib(r->weights, b1, sizeof(b1)), how);
	snprintf(how, sizeof(how), "%.3g B/param x %.3g B trainable%s", r->g_bytes,
		 r->trainable / 1e9, j->zero >= 2 ? ", / dp (ZeRO-2)" : "");
	printf("  %-12s %12s   %s\n", "gradients", gib(r->grads, b1, sizeof(b1)), how);
	snprintf(how, sizeof(how), "%.3g B/param (%s%s)%s%s", r->o_bytes,
		 j->dtype != FD_DT_FP32 ? "fp32 master + " : "", fd_optim_name(j->optimizer),
		 j->zero >= 1 ? ", / dp (ZeRO-1)" : "",
		 j->offload & FD_OFFLOAD_OPTIMIZER ? ", offloaded to CPU" : "");
	printf("  %-12s %12s   %s\n", "optimizer", gib(r->optimizer, b1, sizeof(b1)), how);
	if (r->have_shape) {
		snprintf(how, sizeof(how), "%d layers x %s (Korthikanti et al.)", m->layers,
			 gib(r->act_layer, b1, sizeof(b1)));
		printf("  %-12s %12s   %s\n", "activations", gib(r->activations, b1, sizeof(b1)),
		       how);
		printf("  %-12s %12s   %s\n", "logits", gib(r->logits, b1, sizeof(b1)),
		       "fp32, 4 x seq x micro-batch x vocab / tp");
	} else {
		printf("  %-12s %12s   %s\n", "activations", "unknown",
		       "give the shape (--model, --hf-config or --layers ...)");
		printf("  %-12s %12s   %s\n", "logits", "unknown", "");
	}
	snprintf(how, sizeof(how),
		 "CUDA context %.2f + NCCL %.2f x %d + %.0f %% allocator headroom", r->ctx / GIB,
		 FD_MEMFIT_NCCL_PER_COMM / GIB, r->ncomms, FD_MEMFIT_HEADROOM * 100);
	printf("  %-12s %12s   %s\n", "overhead", gib(r->overhead, b1, sizeof(b1)), how);
	printf("  %-12s %12s%s\n", "total", gib(r->total, b1, sizeof(b1)),
	       r->have_shape ? "" : "   at least (activations unknown)");
	if (free_b > 0)
		printf("  %-12s %12s   %s\n", "GPU memory", gib(free_b, b1, sizeof(b1)), free_src);
	else
		printf("  %-12s %12s   %s\n", "GPU memory", "unknown", free_src);
	if (fits == 1)
		printf("\nverdict: fits, %s to spare\n", gib(free_b - r->total, b1, sizeof(b1)));
	else if (fits == 0)
		printf("\nverdict: does NOT fit: %s over\n",
		       gib(r->total - free_b, b1, sizeof(b1)));
	else
		printf("\nverdict: cannot judge\n");
	if (fits != 0)
		return;
	if (!nsg) {
		printf("no change considered here makes it fit: more GPUs, a smaller model\n");
		return;
	}
	printf("what would make it fit, cheapest first:\n");
	for (int i = 0; i < nsg; i++)
		printf("  %-58s %s%s\n", sg[i].change, gib(sg[i].total, b1, sizeof(b1)),
		       sg[i].fits ? ", fits" : ", still too big");
}

static void print_json(const struct fd_memfit_args *a, const struct fd_memfit *r, double free_b,
		       int fits, struct fd_memfit_suggestion *sg, int nsg)
{
	cJSON *o = cJSON_CreateObject(), *p, *arr;
	char *text;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "model", a->model.name);
	cJSON_AddNumberToObject(o, "params", r->params);
	p = cJSON_AddObjectToObject(o, "per_gpu_bytes");
	cJSON_AddNumberToObject(p, "weights", r->weights);
	cJSON_AddNumberToObject(p, "gradients", r->grads);
	cJSON_AddNumberToObject(p, "optimizer", r->optimizer);
	if (r->have_shape) {
		cJSON_AddNumberToObject(p, "activations", r->activations);
		cJSON_AddNumberToObject(p, "logits", r->logits);
	} else {
		cJSON_AddNullToObject(p, "activations");
		cJSON_AddNullToObject(p, "logits");
	}
	cJSON_AddNumberToObject(p, "overhead", r->overhead);
	cJSON_AddNumberToObject(o, "total_bytes", r->total);
	cJSON_AddBoolToObject(o, "total_is_lower_bound", !r->have_shape);
	if (free_b > 0)
		cJSON_AddNumberToObject(o, "free_bytes", free_b);
	else
		cJSON_AddNullToObject(o, "free_bytes");
	if (fits < 0)
		cJSON_AddNullToObject(o, "fits");
	else
		cJSON_AddBoolToObject(o, "fits", fits);
	arr = cJSON_AddArrayToObject(o, "suggestions");
	for (int i = 0; i < nsg; i++) {
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "change", sg[i].change);
		cJSON_AddNumberToObject(s, "total_bytes", sg[i].total);
		cJSON_AddBoolToObject(s, "fits", sg[i].fits);
		cJSON_AddItemToArray(arr, s);
	}
	text = cJSON_Print(o);
	if (text)
		printf("%s\n", text);
	cJSON_free(text);
	cJSON_Delete(o);
}

int cmd_memfit(int argc, char **argv)
{
	struct fd_memfit_args a;
	struct fd_memfit r;
	struct fd_memfit_suggestion sg[12];
	char err[512], src[320];
	double free_b;
	int fits, nsg = 0, ngpus;

	fd_memfit_args_init(&a);
	if (fd_memfit_args_parse(argc, argv, &a, err, sizeof(err))) {
		fd_err("memfit: %s", err);
		return FD_EXIT_USAGE;
	}
	if (a.help) {
		usage(stdout);
		return 0;
	}
	if (a.list) {
		for (size_t i = 0; fd_model_preset_name(i); i++) {
			struct fd_model m;

			fd_model_preset(fd_model_preset_name(i), &m);
			printf(
			    "%-14s %7.2f B parameters, %d layers, hidden %d, %d heads (%d kv)%s\n",
			    m.name, fd_model_params(&m) / 1e9, m.layers, m.hidden, m.heads,
			    m.kv_heads, m.experts ? ", mixture of experts" : "");
		}
		return 0;
	}
	fd_memfit_compute(&a.model, &a.job, &r);
	if (a.gpu_mem) {
		free_b = (double)a.gpu_mem;
		snprintf(src, sizeof(src), "--gpu-mem");
	} else {
		char why[256];

		free_b = fd_memfit_gpu_free(&ngpus, why, sizeof(why));
		if (free_b > 0)
			snprintf(src, sizeof(src), "free, the least of %d GPU(s) (NVML)", ngpus);
		else
			snprintf(src, sizeof(src), "no NVML (%s): give --gpu-mem", why);
	}
	fits = fd_memfit_verdict(&r, free_b);
	if (fits == 0)
		nsg = fd_memfit_suggest(&a.model, &a.job, free_b, sg, (int)FD_ARRAY_SIZE(sg));
	if (a.json)
		print_json(&a, &r, free_b, fits, sg, nsg);
	else
		print_table(&a, &r, free_b, src, fits, sg, nsg);
	return fits == 1 ? 0 : fits == 0 ? 1 : FD_EXIT_CANT_RUN;
}
