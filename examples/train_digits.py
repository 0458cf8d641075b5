"""Train a shape-checked CNN on handwritten digits, end to end.

Run with ``python examples/train_digits.py`` (about a minute on two CPU cores). The data
is scikit-learn's bundled digits set (1,797 greyscale 8x8 images, shipped inside the
scikit-learn package: nothing is downloaded). The script:

1. builds ``DigitsCNN``: a Module of its own whose output layer's arrays carry shape
   annotations (``Float[Array, "num_classes hidden_size"]``) bound to its ``int`` fields,
   around ``eqx.nn`` convolutions, pooling and a linear layer;
2. prints the model's audit (``eqx.audit``): every parameter against its annotation,
   totals, and the shapes of one batch flowing through the forward pass;
3. trains it with optax (AdamW, cosine-decayed learning rate, random one-pixel shifts)
   inside one ``eqx.filter_jit`` step, with a tqdm progress bar showing the running loss
   and accuracy;
4. saves a checkpoint (``eqx.tree_serialise_leaves``, atomically), reloads it into an
   abstract skeleton built by ``eqx.filter_eval_shape`` (no parameters initialised) and
   checks that the reloaded model scores the same held-out accuracy;
5. writes a PNG of the loss and accuracy curves (matplotlib) and prints its path.

Flags: ``--steps``, ``--batch-size``, ``--seed``, ``--out DIR`` (checkpoint and plot),
``--quick`` (200 steps, for CI).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

import equinox_typed as eqx

NUM_CLASSES = 10
DEFAULT_STEPS, QUICK_STEPS = 1500, 200
EVAL_EVERY = 100


class DigitsCNN(eqx.Module, strict=True):
    """Two 3x3 convolutions, a 2x2 max-pool, a hidden linear layer, and an output layer
    written by hand so that its shapes are checked against ``hidden_size`` and
    ``num_classes`` (and, with ``strict=True``, no array field can go unannotated)."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    pool: eqx.nn.MaxPool2d
    hidden: eqx.nn.Linear
    out_weight: Float[Array, "num_classes hidden_size"]
    out_bias: Float[Array, " num_classes"]
    hidden_size: int = eqx.field(static=True)
    num_classes: int = eqx.field(static=True)

    def __init__(self, hidden_size: int = 64, num_classes: int = NUM_CLASSES, *, key: PRNGKeyArray):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        self.conv1 = eqx.nn.Conv2d(1, 16, kernel_size=3, padding=1, key=k1)
        self.conv2 = eqx.nn.Conv2d(16, 32, kernel_size=3, padding=1, key=k2)
        self.pool = eqx.nn.MaxPool2d(kernel_size=2, stride=2)
        self.hidden = eqx.nn.Linear(32 * 4 * 4, hidden_size, key=k3)
        # Glorot-style scale: the logits start small, so the first losses are near log(10).
        scale = jnp.sqrt(2.0 / (hidden_size + num_classes))
        self.out_weight = scale * jax.random.normal(k4, (num_classes, hidden_size))
        self.out_bias = jnp.zeros((num_classes,))
        self.hidden_size = hidden_size
        self.num_classes = num_classes

    def __call__(self, images: Float[Array, "batch 8 8"]) -> Float[Array, "batch num_classes"]:
        """Logits for a batch of images (the layers take one example: vmap maps them)."""
        return jax.vmap(self.classify)(images)

    def classify(self, image: Float[Array, "8 8"]) -> Float[Array, " num_classes"]:
        x = jax.nn.relu(self.conv1(image[None]))  # (16, 8, 8)
        x = jax.nn.relu(self.conv2(x))  # (32, 8, 8)
        x = self.pool(x)  # (32, 4, 4)
        x = jax.nn.relu(self.hidden(x.reshape(-1)))  # (hidden_size,)
        return self.out_weight @ x + self.out_bias


Images = Float[Array, "batch 8 8"]
Labels = Int[Array, " batch"]


def load_digits(seed: int) -> tuple[Images, Labels, Images, Labels]:
    """scikit-learn's digits, pixels scaled to [0, 1], split 80/20 (stratified)."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    data = sklearn_digits()
    images = (data.images / 16.0).astype(np.float32)
    labels = data.target.astype(np.int32)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    return jnp.asarray(x_train), jnp.asarray(y_train), jnp.asarray(x_test), jnp.asarray(y_test)


def loss_and_accuracy(
    model: DigitsCNN, images: Images, labels: Labels
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    logits = model(images)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == labels)
    return loss, accuracy


@eqx.filter_jit
def evaluate(model: DigitsCNN, images: Images, labels: Labels) -> Float[Array, ""]:
    return loss_and_accuracy(model, images, labels)[1]


def random_shift(key: PRNGKeyArray, images: Images) -> Images:
    """Move each image by up to one pixel in each direction (zero fill): an augmentation
    that keeps the small network from memorising the 1,437 training images."""
    padded = jnp.pad(images, ((0, 0), (1, 1), (1, 1)))
    offsets = jax.random.randint(key, (images.shape[0], 2), 0, 3)

    def crop(image: Float[Array, "10 10"], offset: Int[Array, " 2"]) -> Float[Array, "8 8"]:
        return jax.lax.dynamic_slice(image, (offset[0], offset[1]), (8, 8))

    return jax.vmap(crop)(padded, offsets)


def make_step(optimiser: optax.GradientTransformation) -> Callable[..., Any]:
    """The jitted training step for ``optimiser``: augment, differentiate, update."""

    @eqx.filter_jit
    def step(
        model: DigitsCNN, opt_state: optax.OptState, images: Images, labels: Labels, key: PRNGKeyArray
    ) -> tuple[DigitsCNN, optax.OptState, Float[Array, ""], Float[Array, ""]]:
        images = random_shift(key, images)
        # The optimiser sees only the floating-point arrays: static sizes and the pooling
        # layer's settings are filtered out of the gradient (their entries are None).
        (loss, accuracy), grads = eqx.filter_value_and_grad(loss_and_accuracy, has_aux=True)(
            model, images, labels
        )
        updates, opt_state = optimiser.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, loss, accuracy

    return step


def batches(images: Images, labels: Labels, batch_size: int, seed: int) -> Iterator[tuple[Images, Labels]]:
    """Endless shuffled minibatches: a fresh permutation every epoch, no partial batches."""
    rng = np.random.default_rng(seed)
    n = images.shape[0]
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            idx = order[start : start + batch_size]
            yield images[idx], labels[idx]


def train(
    model: DigitsCNN, data: tuple[Images, Labels, Images, Labels], steps: int, batch_size: int, seed: int
) -> tuple[DigitsCNN, dict[str, list[float]]]:
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = data
    schedule = optax.cosine_decay_schedule(3e-3, decay_steps=steps, alpha=0.05)
    optimiser = optax.adamw(schedule, weight_decay=1e-4)
    opt_state = optimiser.init(eqx.filter(model, eqx.is_array))
    step = make_step(optimiser)
    history: dict[str, list[float]] = {"step": [], "loss": [], "accuracy": [], "eval_step": [], "test_accuracy": []}

    bar = tqdm(range(steps), desc="training", unit="step", mininterval=0.5)
    running_loss = running_acc = None
    keys = jax.random.split(jax.random.key(seed + 1), steps)
    for i, (images, labels) in zip(bar, batches(x_train, y_train, batch_size, seed)):
        model, opt_state, loss, accuracy = step(model, opt_state, images, labels, keys[i])
        loss_f, acc_f = float(loss), float(accuracy)
        # Exponential moving averages: a steadier read-out than single batches.
        running_loss = loss_f if running_loss is None else 0.95 * running_loss + 0.05 * loss_f
        running_acc = acc_f if running_acc is None else 0.95 * running_acc + 0.05 * acc_f
        history["step"].append(i + 1)
        history["loss"].append(loss_f)
        history["accuracy"].append(acc_f)
        if (i + 1) % EVAL_EVERY == 0 or i + 1 == steps:
            history["eval_step"].append(i + 1)
            history["test_accuracy"].append(float(evaluate(model, x_test, y_test)))
        if i % 10 == 0 or i + 1 == steps:
            bar.set_postfix(loss=f"{running_loss:.4f}", acc=f"{running_acc:.3f}", refresh=False)
    bar.close()
    return model, history


def save_plot(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(history["step"], history["loss"], alpha=0.3, label="batch")
    ax_loss.plot(history["step"], _smooth(history["loss"]), label="smoothed")
    ax_loss.set(xlabel="step", ylabel="cross-entropy", yscale="log", title="training loss")
    ax_loss.legend()
    ax_acc.plot(history["step"], _smooth(history["accuracy"]), label="train (smoothed)")
    ax_acc.plot(history["eval_step"], history["test_accuracy"], "o-", label="held-out")
    ax_acc.set(xlabel="step", ylabel="accuracy", ylim=(0.0, 1.01), title="accuracy")
    ax_acc.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _smooth(values: list[float], window: int = 25) -> np.ndarray:
    cumsum = np.cumsum(np.asarray(values, dtype=np.float64))
    out = np.empty_like(cumsum)
    out[:window] = cumsum[:window] / np.arange(1, min(window, len(values)) + 1)
    out[window:] = (cumsum[window:] - cumsum[:-window]) / window
    return out


def check_checkpoint(model: DigitsCNN, path: Path, images: Images, labels: Labels, accuracy: float) -> None:
    """Save ``model``, reload it into an abstract skeleton, check it scores the same."""
    eqx.tree_serialise_leaves(path, model)  # atomic: a temporary file, then a rename
    # The skeleton has the model's structure with jax.ShapeDtypeStruct leaves: no
    # parameters are initialised (nor random numbers drawn) only to be overwritten.
    skeleton = eqx.filter_eval_shape(DigitsCNN, key=jax.random.key(0))
    restored = eqx.tree_deserialise_leaves(path, skeleton)
    restored_accuracy = float(evaluate(restored, images, labels))
    print(f"checkpoint {path.resolve()} ({path.stat().st_size:,} bytes): "
          f"reloaded into an abstract skeleton, held-out accuracy {restored_accuracy:.4f}")
    if restored_accuracy != accuracy:
        raise SystemExit(f"the reloaded model scores {restored_accuracy}, not {accuracy}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=None, help=f"training steps (default {DEFAULT_STEPS})")
    parser.add_argument("--batch-size", type=int, default=64, help="examples per step (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the split, the init and the batches")
    parser.add_argument("--out", type=Path, default=Path("out/train_digits"), help="where to write the checkpoint and plot")
    parser.add_argument("--quick", action="store_true", help=f"a short run for CI ({QUICK_STEPS} steps)")
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = QUICK_STEPS if args.quick else DEFAULT_STEPS
    if args.steps < 1 or args.batch_size < 1:
        parser.error("--steps and --batch-size must be positive")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    data = load_digits(args.seed)
    x_train, _, x_test, y_test = data
    print(f"digits: {x_train.shape[0]} training and {x_test.shape[0]} held-out 8x8 images")
    if args.batch_size > x_train.shape[0]:
        raise SystemExit(f"--batch-size {args.batch_size} is larger than the training set ({x_train.shape[0]})")

    model = DigitsCNN(key=jax.random.key(args.seed))
    # The audit: every parameter against its annotation, and the shapes of one batch
    # flowing through the forward pass (traced abstractly: nothing is computed).
    report = eqx.audit(model, inputs=f"f32[{args.batch_size},8,8]")
    print(report)
    if not report.ok:
        raise SystemExit("the model failed its audit")

    start = time.perf_counter()
    model, history = train(model, data, args.steps, args.batch_size, args.seed)
    elapsed = time.perf_counter() - start
    accuracy = float(evaluate(model, x_test, y_test))
    print(f"trained {args.steps} steps (batch {args.batch_size}) in {elapsed:.1f}s")
    print(f"held-out accuracy {accuracy:.4f} ({round(accuracy * x_test.shape[0])}/{x_test.shape[0]})")

    check_checkpoint(model, args.out / "digits_cnn.eqx", x_test, y_test, accuracy)

    plot = args.out / "curves.png"
    save_plot(history, plot)
    print(f"wrote loss and accuracy curves to {plot.resolve()}")


if __name__ == "__main__":
    main()
