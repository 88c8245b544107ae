"""NAS Studio's helper for your own training code (evaluation kind `command`). Standard library only:
import it from the extension's `helpers` folder or copy it next to your train.py.

    import nas_studio
    trial = nas_studio.trial()
    model = build(trial.graph)            # the architecture, decoded: what the trial view draws
    for epoch in range(1, trial.epochs + 1):
        ...                               # train one epoch
        if trial.report(epoch=epoch, val_accuracy=acc, train_loss=loss):
            break                         # the search's scheduler pruned this trial
    trial.finish(val_accuracy=acc, test_accuracy=test_acc, params=n)

Reports go to NAS Studio on a channel of their own (the file descriptor in NAS_STUDIO_REPORT_FD), so
whatever the program prints stays its log. NAS Studio answers each epoch's report on the same channel;
a trial that is told to stop and goes on is ended with SIGTERM after a grace period.
"""

import json
import math
import os

__all__ = ["Trial", "trial"]


class Trial:
    """One trial: what to train, and where to report it."""

    def __init__(self, spec, channel):
        self.run = spec.get("run")
        self.index = spec.get("trial")
        self.seed = spec["seed"]
        self.architecture = spec["decisions"]
        self.graph = spec["graph"]
        self.space = spec["space"]
        self.dataset = spec.get("dataset")
        self.epochs = spec["epochs"]
        self._channel = channel

    def report(self, epoch, **metrics):
        """One epoch's numbers: val_accuracy (required), train_loss, val_loss, train_accuracy, and any others.

        Returns True when the search's scheduler stopped the trial (it is pruned): stop training then."""
        self._send(dict(metrics, epoch=epoch))
        answer = self._channel.readline()
        return bool(answer) and json.loads(answer).get("stop") is True

    def finish(self, **metrics):
        """The result: val_accuracy (the reward's metric, required), test_accuracy, params, flops."""
        self._send(dict(metrics, final=True))

    def _send(self, values):
        if "val_accuracy" not in values:
            raise ValueError("NAS Studio needs val_accuracy in every report")
        for key, value in values.items():
            if key != "final" and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ValueError("%s must be a finite number, got %r" % (key, value))
        self._channel.write((json.dumps(values) + "\n").encode("utf-8"))


def trial():
    """The trial NAS Studio started this program for (it fails outside a NAS Studio search)."""
    path = os.environ.get("NAS_STUDIO_TRIAL")
    descriptor = os.environ.get("NAS_STUDIO_REPORT_FD")
    if not path or not descriptor:
        raise RuntimeError("not started by NAS Studio: NAS_STUDIO_TRIAL and NAS_STUDIO_REPORT_FD are not set")
    with open(path, encoding="utf-8") as spec:
        # Unbuffered, both ways: a report leaves at once, and reading its answer takes no more than that line.
        return Trial(json.load(spec), os.fdopen(int(descriptor), "r+b", buffering=0))
