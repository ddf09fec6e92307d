"""Accuracy checks and the performance targets that felis must meet against its peers.

Every function here takes the combined figures of one work: {program key: figures},
where "felis" is felis and the other keys are peers (see works.median_figures).
"""

from dataclasses import dataclass

from works import (COURSE4_COURSE_ACCURACY, LOGREG_COURSE_ACCURACY, LOGREG_COURSE_COSTS)

# A peer's test accuracy may exceed felis's by this much before felis's speed-up stops
# counting: half a percentage point.
ACCURACY_TOLERANCE = 0.005
SOFTMAX_MIN_ACCURACY = 0.84


@dataclass
class Target:
    work: str
    description: str
    passed: bool
    detail: str


def percent(fraction):
    """Return a fraction as a percent rounded to two decimals, as the course prints it."""
    return round(100 * fraction, 2)


def percent_text(fraction):
    return f"{100 * fraction:.2f} %"


def costs_match(costs, reference):
    """Return whether every reference cost the run reached agrees to six decimals.

    A quick run stops early, so only the reference iterations it reached are compared;
    a run that recorded none of them does not match.
    """
    compared = [key for key in reference if key in costs]
    return bool(compared) and all(f"{costs[key]:.6f}" == f"{reference[key]:.6f}"
                                  for key in compared)


def accuracies_reach(figures, reference):
    """Return whether the train and test accuracies are at least the reference percents."""
    return (figures.get("train_accuracy") is not None
            and percent(figures["train_accuracy"]) >= reference["train"]
            and figures.get("test_accuracy") is not None
            and percent(figures["test_accuracy"]) >= reference["test"])


def speedup(felis, peer, key="wall_seconds"):
    """Return how many times less time felis took than the peer for `key`, or None."""
    if felis.get(key) and peer.get(key):
        return peer[key] / felis[key]
    return None


def rate_ratio(felis, peer, key):
    if felis.get(key) and peer.get(key):
        return felis[key] / peer[key]
    return None


def accuracy_kept(work, felis, peer):
    """Return (whether felis's speed-up over this peer counts, the reason if not)."""
    if work == "logreg":
        if not costs_match(felis["costs"], LOGREG_COURSE_COSTS):
            return False, "felis's costs differ from the course's at six decimals"
        if not accuracies_reach(felis, LOGREG_COURSE_ACCURACY):
            return False, "felis's accuracies are below the course's 99.04 % and 70 %"
        return True, ""
    if work == "course4":
        if not accuracies_reach(felis, COURSE4_COURSE_ACCURACY):
            return False, "felis's accuracies are below the course's 98.56 % and 80 %"
        return True, ""
    if work == "softmax" and felis.get("test_accuracy", 0) < SOFTMAX_MIN_ACCURACY:
        return False, "felis's test accuracy is below 84 %"
    felis_accuracy = felis.get("test_accuracy")
    peer_accuracy = peer.get("test_accuracy")
    if felis_accuracy is None or peer_accuracy is None:
        return False, "a test accuracy is missing"
    if felis_accuracy < peer_accuracy - ACCURACY_TOLERANCE:
        return False, (f"felis's test accuracy {percent_text(felis_accuracy)} is more than 0.5 "
                       f"points below the peer's {percent_text(peer_accuracy)}")
    return True, ""


def _ratio_text(value):
    return "n/a" if value is None else f"{value:.2f}x"


def check_targets(combined):
    """Return the Targets for the works in combined: {work: {program key: figures}}."""
    targets = []
    if "logreg" in combined:
        work = combined["logreg"]
        felis = work["felis"]
        versus_numpy = speedup(felis, work.get("numpy-float64", {}))
        versus_torch = speedup(felis, work.get("torch-float32", {}))
        exact = costs_match(felis["costs"], LOGREG_COURSE_COSTS)
        passed = (exact and versus_numpy is not None and versus_numpy >= 20
                  and versus_torch is not None and versus_torch >= 20)
        targets.append(Target(
            "logreg", ">= 20x numpy float64 and PyTorch, whole process, course costs to 6 decimals",
            passed, f"numpy float64 {_ratio_text(versus_numpy)}, PyTorch "
                    f"{_ratio_text(versus_torch)}, costs {'match' if exact else 'differ'}"))
    if "course4" in combined:
        work = combined["course4"]
        felis = work["felis"]
        versus_numpy = speedup(felis, work.get("numpy-float64", {}))
        reached = accuracies_reach(felis, COURSE4_COURSE_ACCURACY)
        passed = reached and versus_numpy is not None and versus_numpy >= 6
        targets.append(Target(
            "course4", "felis >= 6x numpy float64 (felis in float64), whole process, at >= 98.56 % / 80 %",
            passed, f"{_ratio_text(versus_numpy)}, accuracies {_accuracy_pair(felis)} "
                    f"({'reached' if reached else 'below the course'})"))
    if "softmax" in combined:
        work = combined["softmax"]
        felis = work["felis"]
        versus_sklearn = speedup(felis, work.get("sklearn-lbfgs", {}))
        accuracy = felis.get("test_accuracy") or 0.0
        passed = (accuracy >= SOFTMAX_MIN_ACCURACY and versus_sklearn is not None
                  and versus_sklearn >= 5)
        targets.append(Target(
            "softmax", "to >= 84 % test accuracy, >= 5x scikit-learn, whole process",
            passed, f"{_ratio_text(versus_sklearn)}, test accuracy {percent_text(accuracy)}"))
    if "cnn" in combined:
        targets.extend(_cnn_targets(combined["cnn"]))
    return targets


def _accuracy_pair(figures):
    train = figures.get("train_accuracy")
    test = figures.get("test_accuracy")
    if train is None or test is None:
        return "n/a"
    return f"{percent_text(train)} / {percent_text(test)}"


def _cnn_targets(work):
    felis = work["felis"]
    torch = work.get("torch-float32", {})
    kept, reason = accuracy_kept("cnn", felis, torch)
    training = rate_ratio(felis, torch, "train_images_per_second")
    inference = rate_ratio(felis, torch, "inference_images_per_second")
    memory = (felis["peak_rss_bytes"] / torch["peak_rss_bytes"]
              if torch.get("peak_rss_bytes") else None)
    accuracy_text = (f"test accuracy {percent_text(felis.get('test_accuracy') or 0)} against "
                     f"{percent_text(torch.get('test_accuracy') or 0)}")
    inference_text = _ratio_text(inference)
    if felis.get("inference_rate_source") != "reported":
        inference_text += " (felis's rate estimated from the whole evaluate process)"
    return [
        Target("cnn", ">= 2.5x PyTorch's training images/s, test accuracy within 0.5 points",
               kept and training is not None and training >= 2.5,
               f"{_ratio_text(training)}, {accuracy_text}" + ("" if kept else f": {reason}")),
        Target("cnn", ">= 3x PyTorch's inference images/s",
               inference is not None and inference >= 3, inference_text),
        Target("cnn", "<= 1/4 of PyTorch's peak RSS",
               memory is not None and memory <= 0.25,
               "n/a" if memory is None else f"{memory:.2f} of PyTorch's"),
    ]
