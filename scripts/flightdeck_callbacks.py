"""flightdeck_callbacks - flightdeck's heartbeats from a framework's training loop.

Two callbacks, each built on first use from its framework's base class, so this module imports
without either framework installed:

    from flightdeck_callbacks import TransformersCallback    # Hugging Face transformers
    trainer = Trainer(..., callbacks=[TransformersCallback()])

    from flightdeck_callbacks import LightningCallback       # lightning.pytorch
    trainer = lightning.pytorch.Trainer(..., callbacks=[LightningCallback()])

Each one, through flightdeck_heartbeat (which must be importable beside it):

* beats after each optimizer step with the global step (counted from 1, as the frameworks count
  it) and total=max_steps when the loop's length is known, so that what follows the last step
  gets `flightdeck run --teardown-timeout`;
* marks each checkpoint save (phase=checkpoint, then phase=train), so that a slow save gets
  --checkpoint-timeout instead of --stall-timeout;
* sends the done beat when training ends (on_train_end), not at interpreter exit: what the
  script does after fit() or train() returns is never called a stall.

Every call is a no-op when not under `flightdeck run`, as flightdeck_heartbeat's are.
"""

import math

import flightdeck_heartbeat as hb

__all__ = ["LightningCallback", "TransformersCallback"]

_built = {}


def _total(value):
    """A loop length flightdeck can take, or None (unknown, infinite, -1)."""
    try:
        if value is None or isinstance(value, bool) or not math.isfinite(value):
            return None
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 1 <= value < 10**18 else None


def _transformers():
    from transformers import TrainerCallback

    class TransformersCallback(TrainerCallback):
        """Beats, checkpoint saves and the done beat for a transformers.Trainer."""

        def __init__(self):
            self._saving = False

        def _save_begins(self, state):
            if not self._saving:
                hb.checkpoint_begin(state.global_step)
                self._saving = True

        def _save_ends(self, state):
            if self._saving:
                hb.checkpoint_end(state.global_step)
                self._saving = False

        def on_step_end(self, args, state, control, **kwargs):
            hb.beat(state.global_step, total=_total(state.max_steps))
            # The Trainer saves right after this hook when should_save is set (after an
            # evaluation, when one is due: the save is marked once that has ended).
            if control.should_save and not control.should_evaluate:
                self._save_begins(state)

        def on_epoch_end(self, args, state, control, **kwargs):
            if control.should_save and not control.should_evaluate:
                self._save_begins(state)

        def on_evaluate(self, args, state, control, **kwargs):
            if control.should_save:
                self._save_begins(state)

        def on_save(self, args, state, control, **kwargs):
            self._save_ends(state)

        def on_train_end(self, args, state, control, **kwargs):
            self._save_ends(state)
            hb.done()

    return TransformersCallback


def _lightning():
    from lightning.pytorch import Callback

    class LightningCallback(Callback):
        """Beats, checkpoint saves and the done beat for a lightning.pytorch.Trainer."""

        def __init__(self):
            self._step = None
            self._total = None
            self._saving = False

        def _save_ends(self, trainer):
            if self._saving:
                hb.checkpoint_end(trainer.global_step)
                self._saving = False

        def on_train_start(self, trainer, pl_module):
            self._step = trainer.global_step  # a resumed run's first step is not news
            total = _total(trainer.max_steps)
            if total is None:
                try:
                    total = _total(trainer.estimated_stepping_batches)
                except Exception:  # an iterable dataset without a length, among others
                    total = None
            self._total = total

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self._save_ends(trainer)  # the save of the batch before is over

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            # once per optimizer step: under gradient accumulation the step stays put
            if trainer.global_step != self._step:
                self._step = trainer.global_step
                hb.beat(self._step, total=self._total)

        def on_save_checkpoint(self, trainer, pl_module, checkpoint):
            # called as the checkpoint is put together, before it is written
            if not self._saving:
                hb.checkpoint_begin(trainer.global_step)
                self._saving = True

        def on_train_epoch_start(self, trainer, pl_module):
            self._save_ends(trainer)

        def on_validation_start(self, trainer, pl_module):
            self._save_ends(trainer)

        def on_train_end(self, trainer, pl_module):
            self._save_ends(trainer)
            hb.done()

    return LightningCallback


_BUILDERS = {"TransformersCallback": _transformers, "LightningCallback": _lightning}


def __getattr__(name):
    """The callback classes, made (and their framework imported) on first use."""
    if name not in _BUILDERS:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    if name not in _built:
        _built[name] = _BUILDERS[name]()
    return _built[name]
