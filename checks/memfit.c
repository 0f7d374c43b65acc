/*
 * memfit.c - the memory arithmetic of memfit.h, the model presets and config.json.
 */
#define _GNU_SOURCE
#include "memfit.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct fd_model presets[] = {
    /* name, params, layers, hidden, heads, kv, ffn, vocab, experts, top-k, tied, gated, gpt, pos */
    {"llama-2-7b", 0, 32, 4096, 32, 32, 11008, 32000, 0, 0, 0, 1, 0, 0},
    {"llama-2-13b", 0, 40, 5120, 40, 40, 13824, 32000, 0, 0, 0, 1, 0, 0},
    {"llama-2-70b", 0, 80, 8192, 64, 8, 28672, 32000, 0, 0, 0, 1, 0, 0},
    {"llama-3-8b", 0, 32, 4096, 32, 8, 14336, 128256, 0, 0, 0, 1, 0, 0},
    {"llama-3-70b", 0, 80, 8192, 64, 8, 28672, 128256, 0, 0, 0, 1, 0, 0},
    {"mistral-7b", 0, 32, 4096, 32, 8, 14336, 32000, 0, 0, 0, 1, 0, 0},
    {"mixtral-8x7b", 0, 32, 4096, 32, 8, 14336, 32000, 8, 2, 0, 1, 0, 0},
    {"gpt-3-175b", 0, 96, 12288, 96, 96, 49152, 50257, 0, 0, 1, 0, 1, 2048},
    {"gpt-2-1.5b", 0, 48, 1600, 25, 25, 6400, 50257, 0, 0, 1, 0, 1, 1024},
};

/* "Llama_2-7B" and "llama-2-7b" name the same preset. */
static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = (char)tolower((unsigned char)*a), y = (char)tolower((unsigned char)*b);

		if (x == '_')
			x = '-';
		if (y == '_')
			y = '-';
		if (x != y)
			return 0;
	}
	return !*a && !*b;
}

int fd_model_preset(const char *name, struct fd_model *m)
{
	for (size_t i = 0; i < FD_ARRAY_SIZE(presets); i++)
		if (same_name(name, presets[i].name)) {
			*m = presets[i];
			return 0;
		}
	return -ENOENT;
}

const char *fd_model_preset_name(size_t i)
{
	return i < FD_ARRAY_SIZE(presets) ? presets[i].name : NULL;
}

int fd_model_has_shape(const struct fd_model *m)
{
	return m->layers > 0 && m->hidden > 0 && m->heads > 0 && m->vocab > 0;
}

static int kv_heads(const struct fd_model *m)
{
	return m->kv_heads > 0 ? m->kv_heads : m->heads;
}

/* A double: 4 x a hidden size from a config.json (up to 1e9) does not fit an int. */
static double ffn(const struct fd_model *m)
{
	return m->ffn > 0 ? m->ffn : 4.0 * m->hidden;
}

static double mlp_params(const struct fd_model *m)
{
	double h = m->hidden, f = ffn(m);
	double one = (m->gated ? 3 : 2) * h * f + (m->gpt ? f + h : 0);

	return m->experts > 1 ? m->experts * one + h * m->experts : one;
}

static double layer_params(const struct fd_model *m)
{
	double h = m->hidden, kvd = h / m->heads * kv_heads(m);
	double attn = 2 * h * h + 2 * h * kvd + (m->gpt ? 2 * h + 2 * kvd : 0);
	double norms = m->gpt ? 4 * h : 2 * h;

	return attn + mlp_params(m) + norms;
}

static double embed_params(const struct fd_model *m)
{
	return (double)m->vocab * m->hidden + (double)m->positions * m->hidden;
}

static double head_params(const struct fd_model *m)
{
	return (m->tied ? 0 : (double)m->vocab * m->hidden) + (m->gpt ? 2.0 : 1.0) * m->hidden;
}

double fd_model_params(const struct fd_model *m)
{
	if (!fd_model_has_shape(m))
		return m->params;
	return m->layers * layer_params(m) + embed_params(m) + head_params(m);
}

/* ---- config.json ------------------------------------------------------------------------- */

static int json_int(const cJSON *root, const char *const *keys, int required, int *out,
		    const char *path, char *err, size_t len)
{
	for (size_t i = 0; keys[i]; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);

		if (!v || cJSON_IsNull(v))
			continue;
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 1e9 ||
		    v->valuedouble != floor(v->valuedouble)) {
			snprintf(err, len, "%s: %s is not a positive whole number", path, keys[i]);
			return -EINVAL;
		}
		*out = (int)v->valuedouble;
		return 0;
	}
	if (required) {
		snprintf(err, len, "%s: missing %s", path, keys[0]);
		return -EINVAL;
	}
	return 0;
}

int fd_model_hf_config(const char *path, struct fd_model *m, char *err, size_t len)
{
	static const char *const k_hidden[] = {"hidden_size", "n_embd", "d_model", NULL};
	static const char *const k_layers[] = {"num_hidden_layers", "n_layer", "num_layers", NULL};
	static const char *const k_heads[] = {"num_attention_heads", "n_head", NULL};
	static const char *const k_kv[] = {"num_key_value_heads", NULL};
	static const char *const k_ffn[] = {"intermediate_size", "n_inner", "ffn_dim", NULL};
	static const char *const k_vocab[] = {"vocab_size", NULL};
	static const char *const k_experts[] = {"num_local_experts", "num_experts", NULL};
	static const char *const k_topk[] = {"num_experts_per_tok", NULL};
	static const char *const k_pos[] = {"n_positions", NULL};
	char *text = NULL;
	size_t n;
	cJSON *root;
	const cJSON *v;
	int r;

	memset(m, 0, sizeof(*m));
	r = fd_read_all(path, &text, &n);
	if (r) {
		snprintf(err, len, "%s: %s", path, strerror(-r));
		return -EINVAL;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(root)) {
		snprintf(err, len, "%s: not a JSON object (is it a Hugging Face config.json?)",
			 path);
		cJSON_Delete(root);
		return -EINVAL;
	}
	if (json_int(root, k_hidden, 1, &m->hidden, path, err, len) ||
	    json_int(root, k_layers, 1, &m->layers, path, err, len) ||
	    json_int(root, k_heads, 1, &m->heads, path, err, len) ||
	    json_int(root, k_vocab, 1, &m->vocab, path, err, len) ||
	    json_int(root, k_kv, 0, &m->kv_heads, path, err, len) ||
	    json_int(root, k_ffn, 0, &m->ffn, path, err, len) ||
	    json_int(root, k_experts, 0, &m->experts, path, err, len) ||
	    json_int(root, k_topk, 0, &m->experts_per_token, path, err, len) ||
	    json_int(root, k_pos, 0, &m->positions, path, err, len)) {
		cJSON_Delete(root);
		return -EINVAL;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "model_type");
	const char *type = cJSON_IsString(v) ? v->valuestring : "";

	m->gpt = !strcmp(type, "gpt2");
	/* SwiGLU/GeGLU families; GPT-2 style configs name no intermediate_size */
	v = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
	m->gated = !m->gpt && ((cJSON_IsString(v) && (!strcmp(v->valuestring, "silu") ||
						      !strncmp(v->valuestring, "swiglu", 6))) ||
			       !strcmp(type, "llama") || !strcmp(type, "mistral") ||
			       !strcmp(type, "mixtral") || !strncmp(type, "qwen2", 5) ||
			       !strncmp(type, "gemma", 5));
	/* transformers' default is tied; Llama-family configs say false explicitly */
	v = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
	m->tied = v ? cJSON_IsTrue(v) : 1;
	if (m->experts && !m->experts_per_token)
		m->experts_per_token = 2;
	if (m->hidden % m->heads) {
		snprintf(err, len, "%s: hidden_size %d is not a multiple of num_attention_heads %d",
			 path, m->hidden, m->heads);
		cJSON_Delete(root);
		return -EINVAL;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "_name_or_path");
	snprintf(m->name, sizeof(m->name), "%s", cJSON_IsString(v) ? v->valuestring : path);
	cJSON_Delete(root);
	return 0;
}

/* ---- the arithmetic ----------------------------------------------------------------------- */

int fd_memfit_validate(const struct fd_model *m, const struct fd_job *j, char *err, size_t len)
{
	int shape = fd_model_has_shape(m);

	if (!shape && (m->layers || m->hidden || m->heads || m->vocab)) {
		snprintf(err, len, "a model shape needs --layers, --hidden, --heads and --vocab");
		return -EINVAL;
	}
	if (!shape && m->params <= 0) {
		snprintf(err, len, "no model: give --model, --hf-config, --params or the shape");
		return -EINVAL;
	}
	if (shape && m->hidden % m->heads) {
		snprintf(err, len, "--hidden %d is not a multiple of --heads %d", m->hidden,
			 m->heads);
		return -EINVAL;
	}
	if (shape && m->kv_heads && (m->kv_heads > m->heads || m->heads % m->kv_heads)) {
		snprintf(err, len, "--kv-heads %d must divide --heads %d", m->kv_heads, m->heads);
		return -EINVAL;
	}
	if (m->experts_per_token > m->experts) {
		snprintf(err, len, "--experts-per-token %d is more than --experts %d",
			 m->experts_per_token, m->experts);
		return -EINVAL;
	}
	if (j->tp < 1 || j->pp < 1 || j->dp < 1 || j->seq < 1 || j->micro_batch < 1) {
		snprintf(err, len, "--tp, --pp, --dp, --seq and --micro-batch must be at least 1");
		return -EINVAL;
	}
	/* 64 bits with overflow checks: each way is an int, their product is not */
	int64_t ways;
	if (__builtin_mul_overflow((int64_t)j->tp, (int64_t)j->pp, &ways) ||
	    __builtin_mul_overflow(ways, (int64_t)j->dp, &ways) || ways > FD_MEMFIT_MAX_GPUS) {
		snprintf(err, len, "--tp %d x --pp %d x --dp %d: more than %d GPUs", j->tp, j->pp,
			 j->dp, FD_MEMFIT_MAX_GPUS);
		return -EINVAL;
	}
	if (shape && m->heads % j->tp) {
		snprintf(err, len, "--tp %d does not divide the %d attention heads", j->tp,
			 m->heads);
		return -EINVAL;
	}
	if (shape && kv_heads(m) % j->tp && j->tp % kv_heads(m)) {
		snprintf(err, len, "--tp %d and the %d key/value heads do not divide each other",
			 j->tp, kv_heads(m));
		return -EINVAL;
	}
	if (shape && j->pp > m->layers) {
		snprintf(err, len, "--pp %d is more than the %d layers", j->pp, m->layers);
		return -EINVAL;
	}
	if (j->zero < 0 || j->zero > 3) {
		snprintf(err, len, "--zero %d: stages are 0, 1, 2, 3", j->zero);
		return -EINVAL;
	}
	if ((j->offload & FD_OFFLOAD_PARAMS) && j->zero != 3) {
		snprintf(err, len, "--offload params needs ZeRO-3 (--zero 3 or --fsdp)");
		return -EINVAL;
	}
	if (j->lora_rank && !shape) {
		snprintf(err, len,
			 "--lora-rank needs the model's shape (--model, --hf-config, or "
			 "--layers/--hidden/--heads/--vocab)");
		return -EINVAL;
	}
	if (j->sequence_parallel && j->tp < 2) {
		snprintf(err, len, "--sequence-parallel needs --tp 2 or more");
		return -EINVAL;
	}
	return 0;
}

/* LoRA adapters on every linear layer: r x (in + out) per matrix. */
static double lora_params(const struct fd_model *m, int r)
{
	double h = m->hidden, kvd = h / m->heads * kv_heads(m), f = ffn(m);
	double attn = r * ((h + h) + (h + kvd) * 2 + (h + h));
	double mlp = r * ((m->gated ? 2 : 1) * (h + f) + (f + h));

	return m->layers * (attn + mlp * (m->experts > 1 ? m->experts : 1));
}

double fd_memfit_act_layer(const struct fd_model *m, const struct fd_job *j)
{
	double s = (double)j->seq, b = (double)j->micro_batch, h = m->hidden, a = m->heads;
	double t = j->tp, g = (double)kv_heads(m) / m->heads, f = ffn(m);
	int k = m->experts > 1 ? (m->experts_per_token ? m->experts_per_token : 2) : 1;
	/* in units of s*b*h bytes (16-bit activations, 1-byte dropout masks) */
	double attn = 7 + 4 * g; /* Q, K, V, scores' inputs, proj, mask */
	double mlp = (m->gated ? 3 + 6 * f / h : 3 + 4 * f / h) * k; /* 19 for a 4h GPT MLP */
	double all = attn + mlp + 4;				     /* + 2 LayerNorm inputs */
	double repl = 10; /* not split by TP: LayerNorm inputs, dropout masks, first inputs */
	double score = 5 * a * s / h; /* softmax output, dropout mask and output: 5as^2b */
	double coef;

	if (j->recompute == FD_RC_FULL)
		coef = j->sequence_parallel ? 2 / t : 2;
	else {
		if (j->recompute == FD_RC_SELECTIVE || j->flash_attn)
			score = 0; /* recomputed, or never materialised (flash attention) */
		coef =
		    j->sequence_parallel ? (all + score) / t : repl + (all - repl) / t + score / t;
	}
	if (m->experts > 1)
		coef += (double)m->experts * 4 / h; /* router logits, fp32 */
	return s * b * h * coef * (j->dtype == FD_DT_FP32 ? 2 : 1);
}

enum fd_memfit_verdict fd_memfit_verdict(const struct fd_memfit *r, double free_bytes)
{
	if (!(free_bytes > 0))
		return FD_MEMFIT_UNKNOWN;
	if (r->total > free_bytes)
		return FD_MEMFIT_NO;
	return r->have_shape ? FD_MEMFIT_YES : FD_MEMFIT_UNKNOWN;
}

void fd_memfit_compute(const struct fd_model *m, const struct fd_job *j, struct fd_memfit *r)
{
	int shape = fd_model_has_shape(m), mixed = j->dtype != FD_DT_FP32;
	double opt_state, n = j->dp, split = (double)j->tp * j->pp;

	memset(r, 0, sizeof(*r));
	r->have_shape = shape;
	r->params = fd_model_params(m);
	if (shape && j->pp > 1) {
		/* the heavier end of the pipeline: embeddings on the first, the head on the last */
		double per = ceil((double)m->layers / j->pp) * layer_params(m);
		double first = per + embed_params(m);
		double last = per + head_params(m) + (m->tied ? (double)m->vocab * m->hidden : 0);

		r->params_gpu = (first > last ? first : last) / j->tp;
	} else {
		r->params_gpu = r->params / split;
	}
	r->trainable = j->lora_rank ? lora_params(m, j->lora_rank) / split : r->params_gpu;

	/* bytes per parameter */
	r->w_bytes = mixed ? 2 : 4;
	r->g_bytes = mixed ? 2 : 4;
	switch (j->optimizer) {
	case FD_OPT_ADAMW:
		opt_state = 8;
		break; /* m and v in fp32 */
	case FD_OPT_ADAM8BIT:
		opt_state = 2;
		break; /* m and v in 8 bits */
	case FD_OPT_SGD_MOMENTUM:
		opt_state = 4;
		break; /* momentum */
	case FD_OPT_ADAFACTOR:
		/* factored second moment: rows + columns per matrix, ~ 8/h bytes a parameter */
		opt_state = 8.0 / (shape ? m->hidden : 4096);
		break;
	default:
		opt_state = 0;
		break;
	}
	r->o_bytes = opt_state + (mixed ? 4 : 0); /* + the fp32 master weights */

	if (j->lora_rank)
		r->weights = (r->params_gpu * (j->qlora ? FD_MEMFIT_NF4_BYTES : r->w_bytes)) +
			     r->trainable * r->w_bytes;
	else
		r->weights = r->params_gpu * r->w_bytes;
	r->grads = r->trainable * r->g_bytes;
	r->optimizer = r->trainable * r->o_bytes;
	if (j->zero >= 1)
		r->optimizer /= n;
	if (j->zero >= 2)
		r->grads /= n;
	if (j->zero >= 3)
		r->weights /= n;
	if (j->offload & FD_OFFLOAD_OPTIMIZER)
		r->optimizer = 0;
	if (j->offload & FD_OFFLOAD_PARAMS)
		r->weights = 0;

	if (shape) {
		r->act_layer = fd_memfit_act_layer(m, j);
		/* 1F1B: the first stage holds pp micro-batches of L/pp layers = L layers' worth */
		r->activations = r->act_layer * m->layers;
		r->logits = 4.0 * j->seq * j->micro_batch * m->vocab / j->tp;
	}
	r->ncomms = (j->dp > 1) + (j->tp > 1) + (j->pp > 1);
	r->ctx = FD_MEMFIT_CUDA_CONTEXT;
	r->nccl = r->ncomms * FD_MEMFIT_NCCL_PER_COMM;
	r->headroom = FD_MEMFIT_HEADROOM *
		      (r->weights + r->grads + r->optimizer + r->activations + r->logits);
	r->overhead = r->ctx + r->nccl + r->headroom;
	r->total = r->weights + r->grads + r->optimizer + r->activations + r->logits + r->overhead;
}

/* ---- what would make it fit ---------------------------------------------------------------- */

/* The cost of "more GPUs": offered last, and only when nothing on these GPUs fits. */
#define COST_MORE_GPUS 11

struct change {
	int cost; /* cheapest first: throughput lost, then engineering effort */
	char what[128];
	struct fd_job job;
};

static double total_of(const struct fd_model *m, const struct fd_job *j)
{
	struct fd_memfit r;

	fd_memfit_compute(m, j, &r);
	return r.total;
}

static int candidates(const struct fd_model *m, const struct fd_job *j, double free_bytes,
		      struct change *c, int max)
{
	char err[160];
	int n = 0;

#define ADD(cost_, job_, ...)                                                                      \
	do {                                                                                       \
		if (n < max && !fd_memfit_validate(m, &(job_), err, sizeof(err))) {                \
			c[n].cost = (cost_);                                                       \
			c[n].job = (job_);                                                         \
			snprintf(c[n].what, sizeof(c[n].what), __VA_ARGS__);                       \
			n++;                                                                       \
		}                                                                                  \
	} while (0)

	struct fd_job k;

	if (fd_model_has_shape(m) && j->recompute == FD_RC_NONE && !j->flash_attn) {
		k = *j;
		k.flash_attn = 1;
		ADD(1, k, "flash attention (or selective recompute)");
	}
	if (j->tp > 1 && !j->sequence_parallel) {
		k = *j;
		k.sequence_parallel = 1;
		ADD(1, k, "sequence parallel");
	}
	if (fd_model_has_shape(m) && j->micro_batch > 1) {
		/* the largest smaller micro-batch that fits; else 1 */
		k = *j;
		for (k.micro_batch = j->micro_batch / 2; k.micro_batch > 1; k.micro_batch /= 2)
			if (total_of(m, &k) <= free_bytes)
				break;
		ADD(2, k, "micro-batch %lld (gradient accumulation x%lld)",
		    (long long)k.micro_batch,
		    (long long)((j->micro_batch + k.micro_batch - 1) / k.micro_batch));
	}
	for (int z = j->zero + 1; z <= 3 && j->dp > 1; z++) {
		k = *j;
		k.zero = z;
		ADD(2 + z, k, "ZeRO-%d over %d GPUs%s", z, j->dp, z == 3 ? " (FSDP)" : "");
	}
	if (fd_model_has_shape(m) && j->recompute != FD_RC_FULL) {
		k = *j;
		k.recompute = FD_RC_FULL;
		ADD(6, k, "full recompute (about a third more compute)");
	}
	if (!(j->offload & FD_OFFLOAD_OPTIMIZER) && j->optimizer != FD_OPT_SGD) {
		k = *j;
		k.offload |= FD_OFFLOAD_OPTIMIZER;
		ADD(7, k, "optimizer states offloaded to CPU memory");
	}
	if (j->dp % 2 == 0) {
		k = *j;
		k.tp = j->tp * 2;
		k.dp = j->dp / 2;
		ADD(8, k, "tensor parallel %d (data parallel %d)", k.tp, k.dp);
		k = *j;
		k.pp = j->pp * 2;
		k.dp = j->dp / 2;
		ADD(9, k, "pipeline parallel %d (data parallel %d)", k.pp, k.dp);
	}
	if (j->optimizer == FD_OPT_ADAMW) {
		k = *j;
		k.optimizer = FD_OPT_ADAM8BIT;
		ADD(10, k, "8-bit Adam");
	}
	/* more GPUs: the fewest, in powers of two, over which ZeRO-3 (and what else is cheap) fits */
	k = *j;
	k.zero = 3;
	if (fd_model_has_shape(m) && k.recompute == FD_RC_NONE)
		k.flash_attn = 1;
	for (k.dp = j->dp * 2; k.dp <= 65536; k.dp *= 2)
		if (total_of(m, &k) <= free_bytes) {
			ADD(COST_MORE_GPUS, k,
			    "ZeRO-3 over %lld GPUs (data parallel %d x tp %d x pp %d)%s",
			    (long long)k.dp * k.tp * k.pp, k.dp, k.tp, k.pp,
			    k.flash_attn && !j->flash_attn ? " with flash attention" : "");
			break;
		}
#undef ADD
	return n;
}

/* "flash attention + micro-batch 1 + ZeRO-3 over 8 GPUs": what b changes from a. */
static void describe(const struct fd_job *a, const struct fd_job *b, char *out, size_t len)
{
	size_t n = 0;

#define SAY(...) n += (size_t)snprintf(out + n, n < len ? len - n : 0, __VA_ARGS__)
	out[0] = '\0';
	if (b->flash_attn != a->flash_attn)
		SAY("%sflash attention", n ? " + " : "");
	if (b->sequence_parallel != a->sequence_parallel)
		SAY("%ssequence parallel", n ? " + " : "");
	if (b->micro_batch != a->micro_batch)
		SAY("%smicro-batch %lld", n ? " + " : "", (long long)b->micro_batch);
	if (b->zero != a->zero)
		SAY("%sZeRO-%d over %d GPUs", n ? " + " : "", b->zero, b->dp);
	if (b->recompute != a->recompute)
		SAY("%s%s recompute", n ? " + " : "", fd_recompute_name(b->recompute));
	if (b->offload != a->offload)
		SAY("%soptimizer offloaded", n ? " + " : "");
	if (b->optimizer != a->optimizer)
		SAY("%s%s", n ? " + " : "", fd_optim_name(b->optimizer));
#undef SAY
}

int fd_memfit_suggest(const struct fd_model *m, const struct fd_job *j, double free_bytes,
		      struct fd_memfit_suggestion *out, int max)
{
	struct change c[32];
	int n = candidates(m, j, free_bytes, c, (int)FD_ARRAY_SIZE(c)), k = 0;
	struct fd_job all = *j;
	int steps = 0;

	/* the candidates come in cost order already */
	for (int i = 0; i < n && k < max; i++) {
		double t = total_of(m, &c[i].job);

		if (t > free_bytes || c[i].cost == COST_MORE_GPUS)
			continue; /* more GPUs come last, after any combination on these */
		fd_strlcpy(out[k].change, c[i].what, sizeof(out[k].change));
		out[k].total = t;
		out[k].fits = 1;
		k++;
	}
	/* no single change: add them, cheapest first, while each one helps, until it fits */
	double best = total_of(m, &all);

	for (int i = 0; i < n && !k && max; i++) {
		struct fd_job next = all;
		const struct fd_job *d = &c[i].job;
		char err[160];

		/* apply the one field this candidate changed */
		if (d->flash_attn != j->flash_attn)
			next.flash_attn = d->flash_attn;
		if (d->sequence_parallel != j->sequence_parallel)
			next.sequence_parallel = d->sequence_parallel;
		if (d->micro_batch != j->micro_batch)
			next.micro_batch = 1;
		if (d->zero != j->zero && d->zero > next.zero)
			next.zero = d->zero;
		if (d->recompute != j->recompute)
			next.recompute = d->recompute;
		if (d->offload != j->offload)
			next.offload |= d->offload;
		if (d->optimizer != j->optimizer)
			next.optimizer = d->optimizer;
		if (d->tp != j->tp || d->pp != j->pp || d->dp != j->dp)
			continue; /* re-cutting the parallelism or more GPUs: its own suggestion */
		if (fd_memfit_validate(m, &next, err, sizeof(err)))
			continue;
		double t = total_of(m, &next);

		if (t >= best)
			continue;
		all = next;
		best = t;
		steps++;
		if (t <= free_bytes)
			break;
	}
	if (steps) {
		describe(j, &all, out[k].change, sizeof(out[k].change));
		out[k].total = best;
		out[k].fits = best <= free_bytes;
		k++;
	}
	/* more GPUs, only when nothing on these GPUs fits */
	for (int i = 0; i < k; i++)
		if (out[i].fits)
			return k;
	for (int i = 0; i < n && k < max; i++)
		if (c[i].cost == COST_MORE_GPUS) {
			fd_strlcpy(out[k].change, c[i].what, sizeof(out[k].change));
			out[k].total = total_of(m, &c[i].job);
			out[k].fits = out[k].total <= free_bytes;
			k++;
		}
	return k;
}

const char *fd_dtype_name(int d)
{
	static const char *const n[] = {"fp32", "bf16", "fp16", "fp8"};

	return d >= 0 && d < 4 ? n[d] : "?";
}

const char *fd_optim_name(int o)
{
	static const char *const n[] = {"adamw", "adam8bit", "sgd", "sgd-momentum", "adafactor"};

	return o >= 0 && o < 5 ? n[o] : "?";
}

const char *fd_recompute_name(int r)
{
	static const char *const n[] = {"none", "selective", "full"};

	return r >= 0 && r < 3 ? n[r] : "?";
}
