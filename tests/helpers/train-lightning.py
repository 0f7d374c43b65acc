#!/usr/bin/env python3
"""A Lightning job for the callbacks' test (t0113): a linear regression, 40 steps on CPU,
ModelCheckpoint saving step-NNNNNN.ckpt every 10 steps into --out, with
flightdeck_callbacks.LightningCallback. On the first launch (FLIGHTDECK_RESTART_COUNT=0) a
callback after it hangs at step 25: the stall flightdeck is to catch. It resumes from
FLIGHTDECK_RESUME_FROM when flightdeck gives one (fit's ckpt_path). Every datagram the client
sends is also a line "LAUNCH FIELDS" in --log, and "LAUNCH fit returned" follows
trainer.fit()."""
import argparse
import os
import time

import flightdeck_heartbeat as hb

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--log", required=True)
args = ap.parse_args()
launch = os.environ.get("FLIGHTDECK_RESTART_COUNT", "0")
log = open(args.log, "a", buffering=1)
send = hb._send


def logged(fields):
    log.write("%s %s\n" % (launch, fields))
    send(fields)


hb._send = logged

import torch  # noqa: E402
import lightning.pytorch as pl  # noqa: E402
from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from flightdeck_callbacks import LightningCallback  # noqa: E402


class Regression(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(8, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class HangAt25(pl.Callback):
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step == 25 and launch == "0":
            time.sleep(600)


torch.set_num_threads(1)
pl.seed_everything(0, verbose=False)
g = torch.Generator().manual_seed(1)
x = torch.randn(160, 8, generator=g)
data = DataLoader(TensorDataset(x, x[:, :1] * 0.5), batch_size=4)
save = ModelCheckpoint(dirpath=args.out, filename="step-{step:06d}", auto_insert_metric_name=False,
                       every_n_train_steps=10, save_top_k=-1)
trainer = pl.Trainer(max_steps=40, accelerator="cpu", devices=1, logger=False,
                     enable_progress_bar=False, enable_model_summary=False,
                     callbacks=[LightningCallback(), HangAt25(), save])
trainer.fit(Regression(), data, ckpt_path=os.environ.get("FLIGHTDECK_RESUME_FROM"))
log.write("%s fit returned\n" % launch)
