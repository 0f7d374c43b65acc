/*
 * memfit.h - will a training job fit in GPU memory: the arithmetic, as pure functions.
 *
 * Per GPU, in bytes:
 *   model states (the ZeRO paper, Rajbhandari et al. 2020): weights, gradients and optimizer
 *     states per parameter by dtype and optimizer, divided by tensor and pipeline parallelism
 *     and, by ZeRO stage, by data parallelism;
 *   activations (Korthikanti et al. 2022, "Reducing Activation Recomputation in Large
 *     Transformer Models"): per layer s*b*h*(34 + 5*a*s/h) bytes for a GPT layer in 16-bit,
 *     with tensor and sequence parallelism and selective/full recomputation, generalised here
 *     to grouped-query attention and gated MLPs; the first pipeline stage holds L layers'
 *     worth (1F1B keeps pp micro-batches of L/pp layers in flight);
 *   logits: fp32, 4*s*b*v/t, on the last stage;
 *   overhead: the CUDA context, NCCL communicators and the caching allocator's headroom,
 *     as the named constants below.
 */
#ifndef FD_MEMFIT_H
#define FD_MEMFIT_H

#include <stddef.h>
#include <stdint.h>

/* Runtime overheads per GPU (docs/architecture.md, "Reference numbers"). */
#define FD_MEMFIT_CUDA_CONTEXT	(0.5 * 1073741824.0)  /* 0.3-0.6 GiB measured */
#define FD_MEMFIT_NCCL_PER_COMM (0.75 * 1073741824.0) /* 0.5-1 GiB per communicator */
#define FD_MEMFIT_HEADROOM	0.08		      /* caching allocator: 5-10 % */
#define FD_MEMFIT_NF4_BYTES	0.516 /* QLoRA NF4 with double quantisation: 4.127 bits */

enum fd_dtype {
	FD_DT_FP32,
	FD_DT_BF16,
	FD_DT_FP16,
	FD_DT_FP8
};
enum fd_optim {
	FD_OPT_ADAMW,
	FD_OPT_ADAM8BIT,
	FD_OPT_SGD,
	FD_OPT_SGD_MOMENTUM,
	FD_OPT_ADAFACTOR
};
enum fd_recompute {
	FD_RC_NONE,
	FD_RC_SELECTIVE,
	FD_RC_FULL
};
enum {
	FD_OFFLOAD_OPTIMIZER = 1,
	FD_OFFLOAD_PARAMS = 2
};

struct fd_model {
	char name[64];
	double params; /* --params; 0 = derived from the shape */
	int layers, hidden, heads, kv_heads, ffn, vocab;
	int experts, experts_per_token; /* MoE; 0 = dense */
	int tied;			/* input and output embeddings shared */
	int gated;			/* SwiGLU-style MLP: three matrices */
	int gpt;			/* GPT-2/3 style: biases, LayerNorm with bias */
	int positions;			/* learned position embeddings (GPT); 0 = none */
};

struct fd_job {
	int64_t seq, micro_batch;
	int dtype, optimizer, zero, tp, pp, dp;
	int sequence_parallel, recompute, flash_attn, lora_rank, qlora, offload;
};

struct fd_memfit {
	double params;	   /* the model's total parameter count */
	double params_gpu; /* parameters one GPU holds before ZeRO: the worst pipeline stage */
	double trainable;  /* trainable parameters per GPU before ZeRO (LoRA: the adapters) */
	int have_shape;	   /* activations and logits are known */
	double act_layer;  /* bytes of activations per layer and micro-batch */
	/* bytes per GPU */
	double weights, grads, optimizer, activations, logits;
	double ctx, nccl, headroom, overhead, total;
	int ncomms;
	/* the per-parameter bytes used, for the table */
	double w_bytes, g_bytes, o_bytes;
};

/*
 * The most GPUs tp x pp x dp may cut a job over (each way alone too): far past any cluster,
 * and small enough that the suggestions' doublings and products stay inside an int.
 */
#define FD_MEMFIT_MAX_GPUS (1 << 24)

/* 1 when the shape (layers, hidden, heads, vocab, ...) is given. */
int fd_model_has_shape(const struct fd_model *m);

/* Parameters from the shape: embeddings, attention, MLP (experts), norms, head. */
double fd_model_params(const struct fd_model *m);

/* Looks up a built-in preset ("llama-2-7b", ...; case and '-'/'_' insensitive). */
int fd_model_preset(const char *name, struct fd_model *m);
/* The presets, for --list-models: name i, or NULL past the end. */
const char *fd_model_preset_name(size_t i);

/*
 * Reads a Hugging Face config.json (hidden_size, num_hidden_layers, num_attention_heads,
 * num_key_value_heads, intermediate_size, vocab_size, tie_word_embeddings,
 * num_local_experts, num_experts_per_tok; GPT-2's n_embd/n_layer/n_head/n_inner/n_positions).
 * -EINVAL with err naming the file and the field.
 */
int fd_model_hf_config(const char *path, struct fd_model *m, char *err, size_t len);

/* Validates the model and the job together; -EINVAL with err naming the field. */
int fd_memfit_validate(const struct fd_model *m, const struct fd_job *j, char *err, size_t len);

/* The arithmetic. The inputs must have passed fd_memfit_validate. */
void fd_memfit_compute(const struct fd_model *m, const struct fd_job *j, struct fd_memfit *r);

/* The verdict of a computed job against the free bytes of the least free GPU. */
enum fd_memfit_verdict {
	FD_MEMFIT_UNKNOWN = -1, /* no GPU memory known, or only a lower bound that fits */
	FD_MEMFIT_NO = 0,	/* over: even a lower bound over the limit is a certain "no" */
	FD_MEMFIT_YES = 1,
};
enum fd_memfit_verdict fd_memfit_verdict(const struct fd_memfit *r, double free_bytes);

/* Activation bytes of one layer for one micro-batch (Korthikanti et al., generalised). */
double fd_memfit_act_layer(const struct fd_model *m, const struct fd_job *j);

struct fd_memfit_suggestion {
	char change[128]; /* "full recompute", "ZeRO-3 over 64 GPUs", "micro-batch 2", ... */
	double total;	  /* bytes per GPU with it */
	int fits;
};

/*
 * When the job does not fit in `free_bytes`, the cheapest changes that make it fit, each
 * computed, cheapest first; when no single change does, the cheapest combination. gpus is the
 * GPU count the parallelism may be re-cut over (tp*pp*dp). Returns how many were written.
 */
int fd_memfit_suggest(const struct fd_model *m, const struct fd_job *j, double free_bytes,
		      struct fd_memfit_suggestion *out, int max);

const char *fd_dtype_name(int d);
const char *fd_optim_name(int o);
const char *fd_recompute_name(int r);

#endif
