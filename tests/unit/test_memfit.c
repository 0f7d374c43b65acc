/*
 * test_memfit.c - memfit against published figures: the ZeRO paper's model states, the
 * 16 bytes/parameter rule, Korthikanti et al.'s per-layer activations for a GPT-3 175B layer,
 * and the parameter counts of real configs.
 */
#include "testhelp.h"
#include "memfit.h"
#include "memfit_args.h"

#include <errno.h>
#include <math.h>

#define WITHIN(got, want, pct)                                                                     \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		if (fabs(g_ - w_) > fabs(w_) * (pct) / 100.0) {                                    \
			printf("    %s:%d: %s = %.6g, expected %.6g within %g%%\n", __FILE__,      \
			       __LINE__, #got, g_, w_, (double)(pct));                             \
			unit_failed = 1;                                                           \
		}                                                                                  \
	} while (0)

static struct fd_job job(void)
{
	struct fd_memfit_args a;

	fd_memfit_args_init(&a);
	return a.job;
}

static double states(double params, int zero, int dp)
{
	struct fd_model m = {.params = params};
	struct fd_job j = job();
	struct fd_memfit r;

	j.zero = zero;
	j.dp = dp;
	fd_memfit_compute(&m, &j, &r);
	return (r.weights + r.grads + r.optimizer) / 1e9; /* GB, as the paper */
}

static void zero_paper(void)
{
	/* Rajbhandari et al., Figure 1 and Table 1: 7.5B on 64 GPUs; GB = 1e9 bytes */
	WITHIN(states(7.5e9, 0, 64), 120, 1);
	WITHIN(states(7.5e9, 1, 64), 31.4, 1);
	WITHIN(states(7.5e9, 2, 64), 16.6, 1);
	WITHIN(states(7.5e9, 3, 64), 1.88, 1);
	/* Table 1, other points (each published to 3 significant digits) */
	static const struct {
		double params;
		int dp;
		double z1, z2, z3;
	} t1[] = {
	    {7.5e9, 4, 52.5, 41.3, 30},	     {7.5e9, 16, 35.6, 21.6, 7.5},
	    {7.5e9, 256, 30.4, 15.4, 0.469}, {128e9, 4, 896, 704, 512},
	    {128e9, 64, 536, 284, 32},	     {128e9, 1024, 513, 257, 2},
	    {1e12, 16, 4750, 2875, 1000},    {1e12, 1024, 4011, 2013, 15.6},
	};
	for (size_t i = 0; i < sizeof(t1) / sizeof(t1[0]); i++) {
		WITHIN(states(t1[i].params, 1, t1[i].dp), t1[i].z1, 1);
		WITHIN(states(t1[i].params, 2, t1[i].dp), t1[i].z2, 1);
		WITHIN(states(t1[i].params, 3, t1[i].dp), t1[i].z3, 1);
	}
	/* mixed-precision Adam: 16 bytes a parameter; 7B -> 112 GB */
	WITHIN(states(7e9, 0, 1), 112, 0.01);
}

static double act(int t, int sp, int rc, int flash)
{
	struct fd_model m;
	struct fd_job j = job();

	CHECK(fd_model_preset("gpt-3-175b", &m) == 0);
	j.seq = 2048;
	j.micro_batch = 1;
	j.tp = t;
	j.sequence_parallel = sp;
	j.recompute = rc;
	j.flash_attn = flash;
	return fd_memfit_act_layer(&m, &j);
}

static void korthikanti(void)
{
	/* one GPT-3 175B layer: s=2048, b=1, h=12288, a=96 (Korthikanti et al., Table 2) */
	const double sbh = 2048.0 * 12288, as_h = 96.0 * 2048 / 12288;

	WITHIN(act(1, 0, FD_RC_NONE, 0), sbh * (34 + 5 * as_h), 1);
	WITHIN(act(8, 0, FD_RC_NONE, 0), sbh * (10 + 24.0 / 8 + 5 * as_h / 8), 1);
	WITHIN(act(8, 1, FD_RC_NONE, 0), sbh / 8 * (34 + 5 * as_h), 1);
	WITHIN(act(8, 0, FD_RC_SELECTIVE, 0), sbh * (10 + 24.0 / 8), 1);
	WITHIN(act(8, 1, FD_RC_SELECTIVE, 0), sbh * 34 / 8, 1);
	WITHIN(act(8, 0, FD_RC_FULL, 0), sbh * 2, 1);
	/* flash attention never materialises the s x s scores: as selective */
	WITHIN(act(8, 1, FD_RC_NONE, 1), sbh * 34 / 8, 1);
	/* 2.87 GB per layer without any parallelism or recompute */
	WITHIN(act(1, 0, FD_RC_NONE, 0), 2.869e9, 0.1);
}

static void param_counts(void)
{
	static const struct {
		const char *name;
		double params; /* as published (HF model cards / papers) */
		double pct;
	} p[] = {
	    {"llama-2-7b", 6.738e9, 0.1},    {"llama-2-13b", 13.016e9, 0.1},
	    {"llama-2-70b", 68.977e9, 0.1},  {"llama-3-8b", 8.030e9, 0.1},
	    {"llama-3-70b", 70.554e9, 0.1},  {"mistral-7b", 7.242e9, 0.1},
	    {"mixtral-8x7b", 46.703e9, 0.1}, {"gpt-3-175b", 175e9, 0.5},
	    {"gpt-2-1.5b", 1.558e9, 0.1},
	};
	struct fd_model m;
	char err[256];

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		CHECK(fd_model_preset(p[i].name, &m) == 0);
		WITHIN(fd_model_params(&m), p[i].params, p[i].pct);
	}
	CHECK(fd_model_preset("Llama_2-7B", &m) == 0);
	CHECK(fd_model_preset("llama-9", &m) != 0);
	/* a real Hugging Face config.json */
	CHECK_EQ_INT(
	    fd_model_hf_config(FD_TEST_FIXTURES "/hf/llama-2-7b.json", &m, err, sizeof(err)), 0);
	CHECK_EQ_INT((long long)fd_model_params(&m), 6738415616LL);
	CHECK_EQ_INT(
	    fd_model_hf_config(FD_TEST_FIXTURES "/hf/mixtral-8x7b.json", &m, err, sizeof(err)), 0);
	WITHIN(fd_model_params(&m), 46.703e9, 0.1);
	CHECK_EQ_INT(m.experts_per_token, 2);
	CHECK_EQ_INT(fd_model_hf_config(FD_TEST_FIXTURES "/hf/gpt2-xl.json", &m, err, sizeof(err)),
		     0);
	WITHIN(fd_model_params(&m), 1.558e9, 0.1);
	CHECK(m.tied && m.gpt && !m.gated);
	/* bad configs name the file and the field */
	CHECK(fd_model_hf_config(FD_TEST_FIXTURES "/hf/missing-layers.json", &m, err,
				 sizeof(err)) != 0);
	CHECK(strstr(err, "missing-layers.json: missing num_hidden_layers") != NULL);
	CHECK(fd_model_hf_config(FD_TEST_FIXTURES "/hf/not-json.json", &m, err, sizeof(err)) != 0);
	CHECK(strstr(err, "not a JSON object") != NULL);
	CHECK(fd_model_hf_config(FD_TEST_FIXTURES "/hf/negative-layers.json", &m, err,
				 sizeof(err)) != 0);
	CHECK(strstr(err, "num_hidden_layers is not a positive whole number") != NULL);
	CHECK(fd_model_hf_config("/nonexistent/config.json", &m, err, sizeof(err)) != 0);
}

static int parse(const char *s, struct fd_memfit_args *a, char *err, size_t len)
{
	return fd_memfit_args_parse_string(s, a, err, len);
}

static void args(void)
{
	struct fd_memfit_args a;
	char err[256];

	CHECK_EQ_INT(parse("--model llama-2-7b --gpus 16 --tp 2 --zero 3", &a, err, sizeof(err)),
		     0);
	CHECK_EQ_INT(a.job.dp, 8);
	CHECK_EQ_INT(parse("--params 70b", &a, err, sizeof(err)), 0);
	WITHIN(a.model.params, 70e9, 0.001);
	CHECK_EQ_INT(parse("--model llama-2-7b --tp 3", &a, err, sizeof(err)), -22);
	CHECK(strstr(err, "--tp 3 does not divide the 32 attention heads") != NULL);
	CHECK(parse("--layers 0 --hidden 4096 --heads 32 --vocab 32000", &a, err, sizeof(err)) !=
	      0);
	CHECK(strstr(err, "--layers") != NULL);
	CHECK(parse("--params -5", &a, err, sizeof(err)) != 0);
	CHECK(strstr(err, "--params") != NULL);
	CHECK(parse("--model llama-2-7b --params 7B", &a, err, sizeof(err)) != 0);
	CHECK(parse("--model llama-2-7b --gpus 6 --tp 4", &a, err, sizeof(err)) != 0);
	CHECK(strstr(err, "--gpus 6") != NULL);
	CHECK(parse("--params 7B --lora-rank 8", &a, err, sizeof(err)) != 0);
	CHECK(strstr(err, "--lora-rank needs the model's shape") != NULL);
	CHECK(parse("--model llama-2-7b --offload params", &a, err, sizeof(err)) != 0);
	CHECK(parse("--model llama-2-7b --dtype fp64", &a, err, sizeof(err)) != 0);
	CHECK(strstr(err, "--dtype: unknown value 'fp64'") != NULL);
	CHECK(parse("--hidden 4096", &a, err, sizeof(err)) != 0);
	CHECK(parse("--model llama-2-7b --hidden 4001", &a, err, sizeof(err)) != 0);
}

static void lora_and_fit(void)
{
	struct fd_memfit_args a;
	struct fd_memfit full, lora, q;
	struct fd_memfit_suggestion s[8];
	char err[256];

	CHECK_EQ_INT(parse("--model llama-2-7b --seq 4096 --flash-attn", &a, err, sizeof(err)), 0);
	fd_memfit_compute(&a.model, &a.job, &full);
	CHECK_EQ_INT(parse("--model llama-2-7b --seq 4096 --flash-attn --lora-rank 16", &a, err,
			   sizeof(err)),
		     0);
	fd_memfit_compute(&a.model, &a.job, &lora);
	CHECK_EQ_INT(
	    parse("--model llama-2-7b --seq 4096 --flash-attn --qlora", &a, err, sizeof(err)), 0);
	fd_memfit_compute(&a.model, &a.job, &q);
	/* LoRA r=16 on every linear layer of Llama-2 7B: 40.0 M trainable parameters */
	WITHIN(lora.trainable, 39976960, 0.01);
	CHECK(lora.optimizer < full.optimizer / 100);
	CHECK(q.weights < lora.weights / 3);
	/* the 7B Adam job does not fit one 80 GiB GPU; every suggestion fits and is computed */
	CHECK_EQ_INT(
	    parse("--model llama-2-7b --seq 4096 --micro-batch 8 --gpus 8", &a, err, sizeof(err)),
	    0);
	fd_memfit_compute(&a.model, &a.job, &full);
	CHECK(full.total > 80 * 1073741824.0);
	int n = fd_memfit_suggest(&a.model, &a.job, 80 * 1073741824.0, s, 8);
	CHECK(n >= 1);
	for (int i = 0; i < n; i++)
		CHECK(s[i].fits && s[i].total <= 80 * 1073741824.0);
	/* only --params: states known, activations not (never zero by accident) */
	CHECK_EQ_INT(parse("--params 7B", &a, err, sizeof(err)), 0);
	fd_memfit_compute(&a.model, &a.job, &full);
	CHECK_EQ_INT(full.have_shape, 0);
	CHECK_EQ_INT((long long)full.activations, 0);
	WITHIN(full.weights + full.grads + full.optimizer, 112e9, 0.01);
}

/* Products of outside values in 64 bits: tp x pp x dp, 4 x hidden. */
static void overflow(void)
{
	struct fd_memfit_args a;
	struct fd_model m = {0};
	struct fd_job j = job();
	char err[256] = "";

	CHECK_EQ_INT(fd_memfit_args_parse_string(
			 "--model llama-2-7b --tp 65536 --pp 65536 --gpus 8", &a, err, sizeof(err)),
		     -EINVAL);
	CHECK(strstr(err, "--tp 65536 x --pp 65536") != NULL);
	CHECK_EQ_INT(fd_memfit_args_parse_string("--params 7e9 --tp 65536 --pp 65536 --dp 65536",
						 &a, err, sizeof(err)),
		     -EINVAL);
	CHECK(strstr(err, "more than") != NULL);
	j.tp = 1 << 24;
	j.pp = 1 << 24;
	j.dp = 1 << 24;
	m.params = 7e9;
	CHECK_EQ_INT(fd_memfit_validate(&m, &j, err, sizeof(err)), -EINVAL);
	/* the suggestions double tp, pp and dp and multiply them: none may wrap */
	CHECK_EQ_INT(fd_memfit_args_parse_string("--model llama-2-70b --gpus 16777216", &a, err,
						 sizeof(err)),
		     0);
	struct fd_memfit_suggestion s[8];
	CHECK(fd_memfit_suggest(&a.model, &a.job, 1e9, s, 8) >= 0);
	/* 4 x hidden for a 536870912 hidden size: the MLP's parameters are positive */
	m = (struct fd_model){.layers = 2, .hidden = 536870912, .heads = 8, .vocab = 100};
	CHECK(fd_model_params(&m) > 2 * 2 * 536870912.0 * 4 * 536870912.0);
}

/* One verdict for `memfit` and the memfit.fit check: unknown memory, over, a lower bound. */
static void verdict(void)
{
	struct fd_memfit r = {.total = 70e9, .have_shape = 1};

	CHECK_EQ_INT(fd_memfit_verdict(&r, 80e9), FD_MEMFIT_YES);
	CHECK_EQ_INT(fd_memfit_verdict(&r, 60e9), FD_MEMFIT_NO);
	CHECK_EQ_INT(fd_memfit_verdict(&r, 0), FD_MEMFIT_UNKNOWN);
	r.have_shape = 0; /* --params alone: the total is a lower bound */
	CHECK_EQ_INT(fd_memfit_verdict(&r, 80e9), FD_MEMFIT_UNKNOWN);
	CHECK_EQ_INT(fd_memfit_verdict(&r, 60e9), FD_MEMFIT_NO);
}

const struct unit_test memfit_tests[] = {
    {"memfit: ZeRO paper model states", zero_paper},
    {"memfit: Korthikanti et al. activations, GPT-3 175B layer", korthikanti},
    {"memfit: parameter counts of presets and real configs", param_counts},
    {"memfit: options and their errors", args},
    {"memfit: LoRA, QLoRA, suggestions, --params only", lora_and_fit},
    {"memfit: the verdict", verdict},
    {"memfit: overflow of tp x pp x dp and 4 x hidden", overflow},
    {NULL, NULL},
};
