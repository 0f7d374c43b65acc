#!/usr/bin/env python3
"""A Hugging Face Trainer job for the callbacks' test (t0112): a 1-layer GPT-2 built from a
config (nothing downloaded), 40 steps on CPU, checkpoint-N saved every 10 steps into --out,
with flightdeck_callbacks.TransformersCallback. On the first launch
(FLIGHTDECK_RESTART_COUNT=0) a callback after it hangs at step 25: the stall flightdeck is to
catch. --resume PATH resumes from the Trainer's checkpoint there. Every datagram the client
sends is also a line "LAUNCH FIELDS" in --log, and "LAUNCH train returned" follows
trainer.train()."""
import argparse
import os
import time

import flightdeck_heartbeat as hb

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--resume", default=None)
args = ap.parse_args()
launch = os.environ.get("FLIGHTDECK_RESTART_COUNT", "0")
log = open(args.log, "a", buffering=1)
send = hb._send


def logged(fields):
    log.write("%s %s\n" % (launch, fields))
    send(fields)


hb._send = logged

import torch  # noqa: E402
from transformers import (  # noqa: E402
    GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments)

from flightdeck_callbacks import TransformersCallback  # noqa: E402


class HangAt25(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == 25 and launch == "0":
            time.sleep(600)


torch.set_num_threads(1)
torch.manual_seed(0)
config = GPT2Config(vocab_size=32, n_positions=16, n_embd=16, n_layer=1, n_head=2,
                    bos_token_id=0, eos_token_id=0)
model = GPT2LMHeadModel(config)
g = torch.Generator().manual_seed(1)
data = [{"input_ids": ids, "labels": ids} for ids in torch.randint(0, 32, (160, 16), generator=g)]
targs = TrainingArguments(output_dir=args.out, max_steps=40, save_steps=10,
                          per_device_train_batch_size=4, report_to="none", use_cpu=True,
                          disable_tqdm=True, logging_steps=1000, seed=0)
trainer = Trainer(model=model, args=targs, train_dataset=data,
                  callbacks=[TransformersCallback(), HangAt25()])
trainer.train(resume_from_checkpoint=args.resume)
log.write("%s train returned\n" % launch)
