"""The benchmark's works: the commands felis and each peer run, their FLOP counts, figures.

A work is one task (the course's logistic regression, the course's 4-layer network,
softmax regression, the CNN) that felis and one or more peers each run as whole
processes. figures() turns one process's measurements and its own JSON report into the
numbers that the report and the target check compare.
"""

import os
import statistics
from dataclasses import dataclass, field

WORK_KEYS = ("logreg", "course4", "softmax", "cnn")

# The course's published figures, to six decimals and two decimals of a percent.
LOGREG_COURSE_COSTS = {"0": 0.693147, "100": 0.584508, "1000": 0.214820, "1900": 0.140872}
LOGREG_COURSE_ACCURACY = {"train": 99.04, "test": 70.00}
COURSE4_COURSE_COSTS = {"0": 0.771749, "2400": 0.092878}
COURSE4_COURSE_ACCURACY = {"train": 98.56, "test": 80.00}

CAT_PIXELS = 64 * 64 * 3
CAT_TRAIN_IMAGES = 209
COURSE4_LAYERS = (CAT_PIXELS, 20, 7, 5, 1)
FASHION_PIXELS = 28 * 28
FASHION_CLASSES = 10
FASHION_TRAIN_IMAGES = 60000
CNN_SPEC = ("conv:32:3, relu, maxpool:2, conv:64:3, relu, maxpool:2, flatten, dense:128, "
            "relu, dense:10")


# FLOP counts. Each counts 2 FLOP per multiply-add of the matrix products and
# convolutions a work needs, and nothing for element-wise steps (activations, pooling,
# the loss, optimizer updates), which are a few percent at most here.

def logreg_flops(iterations):
    """Return the FLOP of full-batch logistic regression on the cat data.

    Each iteration multiplies the 12288 x 209 pixel matrix twice: w^T X for the
    activations and X (A - Y)^T for the gradient.
    """
    return iterations * 2 * (2 * CAT_PIXELS * CAT_TRAIN_IMAGES)


def course4_flops_per_iteration():
    """Return one full-batch iteration's FLOP for the course's 4-layer network.

    Forward and weight gradient: every layer's W (n_l x n_{l-1}) times 209 columns. The
    gradient with respect to a layer's input: every layer but the first, whose input is
    the pixels. The first layer is over 99.9 % of the total.
    """
    weights = [fan_in * fan_out for fan_in, fan_out in zip(COURSE4_LAYERS, COURSE4_LAYERS[1:])]
    m = CAT_TRAIN_IMAGES
    return 2 * m * (sum(weights) + sum(weights) + sum(weights[1:]))


def softmax_flops_per_image_pass():
    """Return the FLOP per image of one forward pass plus one weight gradient (784 x 10)."""
    return 2 * (2 * FASHION_PIXELS * FASHION_CLASSES)


def cnn_multiply_adds():
    """Return [(layer, multiply-adds per image)] of the CNN's forward pass on 28x28x1."""
    layers = []
    side, channels = 28, 1
    for name, out_channels in (("conv1 3x3x32", 32), ("conv2 3x3x64", 64)):
        side -= 2                       # a 3x3 kernel without padding
        layers.append((name, side * side * out_channels * 9 * channels))
        channels = out_channels
        side //= 2                      # 2x2 max pooling, floor
    flat = side * side * channels
    layers.append((f"dense {flat}x128", flat * 128))
    layers.append(("dense 128x10", 128 * 10))
    return layers


def cnn_flops_per_image():
    """Return (training FLOP, inference FLOP) per image.

    Training is the forward pass, every weight gradient, and every input gradient but
    the first convolution's, since nothing needs the gradient of the pixels.
    """
    layers = cnn_multiply_adds()
    forward = sum(mads for _, mads in layers)
    first = layers[0][1]
    return 2 * (3 * forward - first), 2 * forward


@dataclass
class Setup:
    """Paths and options shared by every command a run builds."""
    felis: str
    peers_dir: str
    python: str
    cat_data: str
    fashion_data: str
    threads: int
    quick: bool
    scratch: str

    def peer(self, script, *extra):
        return [self.python, os.path.join(self.peers_dir, script), self.data_for(script),
                str(self.threads), *extra]

    def data_for(self, script):
        return self.cat_data if script in ("logreg.py", "course4.py") else self.fashion_data

    def scratch_file(self, name):
        return os.path.join(self.scratch, name)


@dataclass
class Step:
    """One process: its command line and, for felis, the metrics file it writes.

    A peer step has no metrics file: it prints its JSON report as its last stdout line.
    """
    name: str
    argv: list
    metrics_path: str = None


@dataclass
class Program:
    """felis or one peer on one work: the processes that make up one repetition."""
    key: str
    label: str
    is_felis: bool
    steps: list = field(default_factory=list)


def felis_train(setup, work, *options):
    metrics = setup.scratch_file(f"{work}-train.json")
    return Step("train", [setup.felis, "train", *options, "--threads", str(setup.threads),
                          "--metrics", metrics], metrics)


def programs(work, setup):
    """Return felis's and the peers' programs for `work`, felis first."""
    quick = setup.quick
    if work == "logreg":
        iterations = "200" if quick else "2000"
        felis = felis_train(setup, work, "--data", setup.cat_data, "--model", "logreg",
                            "--iterations", iterations, "--learning-rate", "0.005",
                            "--out", setup.scratch_file("logreg.h5"))
        peers = [(variant, label, setup.peer("logreg.py", "--variant", variant,
                                             "--iterations", iterations))
                 for variant, label in (("numpy-float64", "numpy float64 (the course)"),
                                        ("numpy-float32", "numpy float32"),
                                        ("torch-float32", "PyTorch float32"))]
        felis_label = "felis float64"
    elif work == "course4":
        iterations = "200" if quick else "2500"
        felis = felis_train(setup, work, "--data", setup.cat_data, "--model", "course-4layer",
                            "--init", "course", "--seed", "1", "--precision", "float64",
                            "--iterations", iterations, "--learning-rate", "0.0075")
        peers = [(variant, label, setup.peer("course4.py", "--variant", variant,
                                             "--iterations", iterations))
                 for variant, label in (("numpy-float64", "numpy float64 (the course)"),
                                        ("numpy-float32", "numpy float32"))]
        felis_label = "felis float64 (Gram path)"
    elif work == "softmax":
        # The preset's schedule (15 epochs in float64) reaches 84.4-84.5 %; 10 epochs in
        # float32 with a faster decay reach 84.2-84.3 % over seeds 1-3 in two thirds of the time.
        felis = felis_train(setup, work, "--data", setup.fashion_data, "--model", "softmax",
                            "--precision", "float32", "--lr-decay", "0.65",
                            "--epochs", "1" if quick else "10")
        peers = [("sklearn-lbfgs", "scikit-learn lbfgs",
                  setup.peer("softmax.py", "--max-iter", "10" if quick else "100"))]
        felis_label = "felis float32, SGD, 10 epochs"
    elif work == "cnn":
        epochs = "1" if quick else "3"
        model = setup.scratch_file("cnn.h5")
        felis = felis_train(setup, work, "--data", setup.fashion_data, "--model", CNN_SPEC,
                            "--optimizer", "adam", "--learning-rate", "0.001", "--lr-decay", "1",
                            "--batch-size", "64", "--epochs", epochs, "--out", model)
        evaluate_metrics = setup.scratch_file("cnn-evaluate.json")
        evaluate = Step("evaluate", [setup.felis, "evaluate", "--model", model,
                                     "--data", setup.fashion_data, "--split", "test",
                                     "--threads", str(setup.threads),
                                     "--metrics", evaluate_metrics], evaluate_metrics)
        peers = [("torch-float32", "PyTorch float32",
                  setup.peer("cnn.py", "--epochs", epochs, "--inference-batch", "1000"))]
        felis_label = "felis float32"
        return ([Program("felis", felis_label, True, [felis, evaluate])]
                + [Program(key, label, False, [Step("peer", argv)]) for key, label, argv in peers])
    else:
        raise ValueError(f"unknown work {work}; expected one of {', '.join(WORK_KEYS)}")
    return ([Program("felis", felis_label, True, [felis])]
            + [Program(key, label, False, [Step("peer", argv)]) for key, label, argv in peers])


def _costs(report):
    """Return {"iteration": cost} from a felis metrics file's list or a peer's mapping."""
    costs = report.get("costs") or {}
    if isinstance(costs, list):
        return {str(entry["iteration"]): entry["cost"] for entry in costs}
    return dict(costs)


def _epoch_rates(report):
    return [epoch["images_per_second"] for epoch in report.get("epoch_curves", [])]


def steady_training_rate(rates):
    """Return the images/s of epochs 2 onward (epoch 1 is the warm-up), or epoch 1's alone.

    Each epoch has the same number of images, so the rate over several is their harmonic
    mean.
    """
    counted = rates[1:] if len(rates) > 1 else rates
    return len(counted) / sum(1.0 / rate for rate in counted) if counted else None


def figures(work, program, results):
    """Return one repetition's figures from {step name: measurements and report}.

    Figures: wall_seconds (the training process), peak_rss_bytes (the largest of the
    run's processes), inner_seconds (the program's own training time), costs, accuracies,
    flops (of the training the program itself did), and for the CNN the training and
    inference images/s.
    """
    main = results["train"] if program.is_felis else results["peer"]
    report = main["report"]
    out = {
        "wall_seconds": main["wall_seconds"],
        "peak_rss_bytes": max(step["peak_rss_bytes"] for step in results.values()),
        "inner_seconds": report.get("train_seconds"),
        "costs": _costs(report),
        "train_accuracy": report.get("train_accuracy"),
        "test_accuracy": report.get("test_accuracy"),
    }
    if program.is_felis:
        out["gram"] = bool(report.get("gram"))
    if work == "logreg":
        out["flops"] = logreg_flops(report["iterations"])
    elif work == "course4":
        out["flops"] = course4_flops_per_iteration() * report["iterations"]
    elif work == "softmax":
        # felis reports its epochs. scikit-learn reports lbfgs iterations, and each costs
        # at least one pass of the loss and its gradient over the training set. A line
        # search that retries costs more, so the count is a lower bound.
        passes = report["epochs"] if program.is_felis else report["iterations"]
        out["flops"] = passes * FASHION_TRAIN_IMAGES * softmax_flops_per_image_pass()
    elif work == "cnn":
        out["epoch_rates"] = _epoch_rates(report)
        out["train_images_per_second"] = steady_training_rate(out["epoch_rates"])
        if program.is_felis:
            out.update(_felis_inference(results["evaluate"]))
        else:
            out["inference_images_per_second"] = report["inference_images_per_second"]
            out["inference_rate_source"] = "reported"
    return out


def _felis_inference(evaluate):
    """Return felis's inference images/s from evaluate's metrics, else an estimate."""
    report = evaluate["report"]
    if isinstance(report.get("images_per_second"), (int, float)):
        return {"inference_images_per_second": report["images_per_second"],
                "inference_rate_source": "reported"}
    # NOTE: felis builds older than evaluate's images_per_second field only allow an
    # estimate: the test images over the whole evaluate process's wall time. That time
    # includes loading the model and the data, so the estimate understates the rate.
    images = report["count"]
    return {"inference_images_per_second": images / evaluate["wall_seconds"],
            "inference_rate_source": "estimated from the whole process"}


def median_figures(runs):
    """Combine the repetitions' figures: median, min and max of each number.

    Costs, epoch rates, the Gram flag and the inference rate's source come from the last
    repetition.
    """
    combined = {"repeats": len(runs), "costs": runs[-1]["costs"]}
    for key in ("epoch_rates", "inference_rate_source", "gram"):
        if key in runs[-1]:
            combined[key] = runs[-1][key]
    numbers = [key for key, value in runs[0].items()
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    for key in numbers:
        values = [run[key] for run in runs if run.get(key) is not None]
        if values:
            combined[key] = statistics.median(values)
            combined[key + "_min"] = min(values)
            combined[key + "_max"] = max(values)
    return combined
