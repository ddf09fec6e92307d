"""Render a benchmark run as Markdown and write it into docs/benchmarks.md between markers.

Only the text between BEGIN_MARKER and END_MARKER is generated. Everything else in the
file, such as the hand-written section on what stands between felis and the floor, is
kept as it is. A new file gets a template with that section as a placeholder.
"""

import os

import targets as target_checks
import works

BEGIN_MARKER = "<!-- bench:begin -->"
END_MARKER = "<!-- bench:end -->"

TEMPLATE_HEAD = """# Benchmarks

felis against numpy, scikit-learn and PyTorch on the same work with the same
hyperparameters and threads, measured side by side in one run of `bench/run`. The runner
alternates felis and its peers, times each as a whole process (wall time and peak RSS),
and records what each program reports about itself: its own training time, costs,
accuracies and images per second. The peers' scripts are in `bench/peers/`. To measure
again, run `bench/run` from the repository's root (`bench/run --help` lists the options);
it rewrites the part of this page between the two `bench` markers and keeps the rest.

"""

TEMPLATE_TAIL = """

## What stands between felis and the floor

Not written yet. For each work, this section should explain, from a profile rather than
a guess, what keeps felis from the arithmetic floor measured above. Candidates are memory
traffic (a pixel matrix larger than the L2 cache), passes that could be fused,
element-wise steps, and how well the work splits over the two threads. `bench/run` never
rewrites this section.
"""


class ReportFileError(Exception):
    pass


def check_output_file(path):
    """Raise ReportFileError if path exists but lacks the markers, so nothing is lost."""
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (UnicodeDecodeError, OSError) as error:
        raise ReportFileError(f"{path} cannot be read as UTF-8 text ({error}); pass --out "
                              "with another file") from error
    begin, end = text.find(BEGIN_MARKER), text.find(END_MARKER)
    if begin < 0 or end < begin:
        raise ReportFileError(
            f"{path} exists but has no '{BEGIN_MARKER}' ... '{END_MARKER}' pair; add the "
            f"markers where the generated part belongs, or pass --out with another file")


def write_report(path, generated):
    """Replace the text between the markers of path with generated, or create path."""
    check_output_file(path)
    block = f"{BEGIN_MARKER}\n{generated.strip()}\n{END_MARKER}"
    if os.path.exists(path):
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
        begin = text.find(BEGIN_MARKER)
        end = text.find(END_MARKER) + len(END_MARKER)
        text = text[:begin] + block + text[end:]
    else:
        text = TEMPLATE_HEAD + block + TEMPLATE_TAIL
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


# Formatting helpers.

def _seconds(figures, key):
    value = figures.get(key)
    if value is None:
        return "n/a"
    text = f"{value:.2f}"
    if figures.get("repeats", 1) > 1 and f"{key}_min" in figures:
        text += f" ({figures[key + '_min']:.2f}-{figures[key + '_max']:.2f})"
    return text


def _rate(figures, key):
    value = figures.get(key)
    if value is None:
        return "n/a"
    text = f"{value:,.0f}"
    if figures.get("repeats", 1) > 1 and f"{key}_min" in figures:
        text += f" ({figures[key + '_min']:,.0f}-{figures[key + '_max']:,.0f})"
    return text


def _bytes(value):
    if value is None:
        return "n/a"
    if value >= 1 << 30:
        return f"{value / (1 << 30):.2f} GiB"
    return f"{value / (1 << 20):.0f} MiB"


def _percent(fraction):
    return "n/a" if fraction is None else f"{100 * fraction:.2f} %"


def _floor_fraction(fraction):
    return "n/a" if fraction is None else f"{100 * fraction:.1f} %"


def _times(ratio):
    return "n/a" if ratio is None else f"{ratio:.2f}x"


def _gflop(flops):
    return f"{flops / 1e9:.2f} GFLOP"


# Sections.

def _run_section(run):
    lines = [
        "## Latest run",
        "",
        f"Measured {run['date']} by `{run['command']}`: {run['repeats']} "
        f"repetition{'s' if run['repeats'] != 1 else ''} of every program, felis and its "
        f"peers alternating, on {run['threads']} threads. The 1-minute load average was "
        f"{run['load_before']:.2f} before the run, {run['load_after']:.2f} after it and at most "
        f"{run['load_max']:.2f} at the start of a program, counting the measured programs' "
        f"own threads. Other processes used {100 * run['other_cpu_fraction']:.1f} % of the "
        "CPUs' time during the run. They slow every program and widen the spread, and "
        "PyTorch most, because its OpenMP threads spin while they wait for each other.",
        "",
        "Times are medians over the repetitions, with the minimum and maximum in brackets "
        "when there are several. \"Whole process\" is the wall time of the program's "
        "process, start-up and data loading included; \"training\" is the program's own "
        "timer around its training loop. A speed-up is the peer's time divided by "
        "felis's. Peak RSS is the process's maximum resident set from `wait4`.",
    ]
    if run["other_cpu_fraction"] > run["busy_fraction"]:
        lines += ["", f"**Busy machine:** other processes used "
                      f"{100 * run['other_cpu_fraction']:.1f} % of the {run['usable_cpus']} "
                      "CPUs' time, so they took CPU time from the programs measured here. "
                      "Treat the ratios, above all those against PyTorch, as unreliable and "
                      "measure again on an idle machine."]
    if run["quick"]:
        lines += ["", "**Quick run:** fewer iterations and epochs than the works below name, "
                      "so the times, accuracies and targets are a smoke test only."]
    if run.get("openblas_environment"):
        removed = ", ".join(f"{name}={value}" for name, value in run["openblas_environment"].items())
        lines += ["", f"The runner's environment set {removed}; the peers ran without these "
                      "variables and felis ran with them."]
    return lines


def _machine_section(machine, build, peer_versions):
    caches = ", ".join(f"{name} {size}" for name, size in machine["caches"].items()) or "n/a"
    memory = machine["memory_bytes"]
    cpu = machine["cpu_model"]
    if machine.get("hypervisor"):
        cpu += f" (virtual machine, {machine['hypervisor']})"
    felis = build["commit"] or "unknown commit"
    felis += f", binary {build['binary']}"
    if build.get("version"):
        felis += f" ({build['version']})"
    if build["uncommitted_changes"]:
        felis += "; src/, apps/ or CMakeLists.txt had uncommitted changes"
    blas = peer_versions.get("openblas") or {}
    openblas = (f"{blas.get('version', 'n/a')}, {blas.get('architecture') or 'unknown'} "
                f"kernels, {blas.get('threading_layer') or 'unknown'} threading"
                if blas else "n/a")
    return [
        "### Machine and versions",
        "",
        "| item | value |",
        "| --- | --- |",
        f"| CPU | {cpu} |",
        f"| logical CPUs | {machine['logical_cpus']} ({machine['usable_cpus']} usable) |",
        f"| caches | {caches} |",
        f"| ISA flags | {' '.join(machine['isa_flags']) or 'none of note'} |",
        f"| memory | {_bytes(memory) if memory else 'n/a'} |",
        f"| kernel | Linux {machine['kernel']} |",
        f"| felis checkout at the start | {felis} |",
        f"| compiler | {build['compiler'] or 'n/a'}, build type {build['build_type'] or 'n/a'} |",
        f"| Eigen | {build['eigen'] or 'n/a'} |",
        f"| numpy | {peer_versions.get('numpy', 'n/a')} |",
        f"| OpenBLAS (numpy's) | {openblas} |",
        f"| scikit-learn | {peer_versions.get('sklearn', 'n/a')} |",
        f"| PyTorch | {peer_versions.get('torch', 'n/a')} |",
        f"| Python | {peer_versions.get('python', 'n/a')} |",
    ]


def _floor_section(gemm, peak):
    train_flops, inference_flops = works.cnn_flops_per_image()
    per_iteration_logreg = works.logreg_flops(1)
    per_iteration_course4 = works.course4_flops_per_iteration()
    gemm_rows = [f"| {name} | {value:.0f} |" for name, value in sorted(gemm["gflops"].items())]
    lines = [
        "### Arithmetic floor",
        "",
        f"The floor is the time a work's matrix products would take at the machine's float32 "
        f"GEMM peak, measured in this run: the best of {gemm['repeats']} products of two "
        f"{gemm['size']} x {gemm['size']} matrices on {gemm['threads']} threads "
        f"(`bench/peers/gemm_peak.py`), {peak:.0f} GFLOP/s.",
        "",
        "| GEMM | GFLOP/s |",
        "| --- | --- |",
        *gemm_rows,
        "",
        "A FLOP count takes 2 FLOP per multiply-add of the products and convolutions a work "
        "needs and nothing for element-wise steps. \"Floor reached\" is the floor time "
        "divided by the program's own training time (for the CNN, the measured images/s "
        "divided by the floor's). The float32 peak is the floor for float64 programs too, "
        "so they can reach at most the float64 to float32 GEMM ratio above. A program "
        "that does less arithmetic than the count, for example logistic regression "
        "through the 209 x 209 Gram matrix, can pass 100 %.",
        "",
        "| work | FLOP counted | amount |",
        "| --- | --- | --- |",
        f"| logistic regression | w^T X and X (A - Y)^T on the 12288 x 209 pixel matrix: "
        f"2 x 2 x 12288 x 209 per iteration | {per_iteration_logreg / 1e6:.2f} MFLOP per "
        f"iteration, {_gflop(works.logreg_flops(2000))} for 2000 |",
        f"| 4-layer network | per iteration, forward and weight gradient of every layer, "
        f"input gradient of layers 2-4 (m = 209); the first layer, 12288 x 20, is "
        f"99.9 % of it | {per_iteration_course4 / 1e6:.1f} MFLOP per iteration, "
        f"{_gflop(2500 * per_iteration_course4)} for 2500 |",
        f"| softmax regression | forward and weight gradient of the 784 x 10 layer per "
        f"image and pass; felis makes 10 passes (epochs), scikit-learn at least one per "
        f"lbfgs iteration | {works.softmax_flops_per_image_pass():,} FLOP per image and "
        f"pass |",
        f"| CNN, training | forward, weight gradients, and input gradients of every layer "
        f"but the first convolution | {train_flops / 1e6:.2f} MFLOP per image |",
        f"| CNN, inference | forward | {inference_flops / 1e6:.2f} MFLOP per image |",
        "",
        "The CNN's multiply-adds per image, forward:",
        "",
        "| layer | multiply-adds |",
        "| --- | --- |",
        *[f"| {name} | {mads:,} |" for name, mads in works.cnn_multiply_adds()],
        "",
        f"Three times the forward pass, {3 * inference_flops / 1e6:.2f} MFLOP, would also "
        "count the gradient of the input pixels, which no program computes. At the peak "
        f"above the CNN's floor is {peak * 1e9 / train_flops:,.0f} training and "
        f"{peak * 1e9 / inference_flops:,.0f} inference images/s.",
    ]
    return lines


def _fraction_of_floor(figures, peak):
    if not figures.get("flops") or not figures.get("inner_seconds"):
        return None
    return figures["flops"] / (peak * 1e9) / figures["inner_seconds"]


TITLES = {
    "logreg": ("Course logistic regression",
               "cat / non-cat (209 training images of 12288 pixels), zero init, rate 0.005, "
               "full batch, 2000 iterations; costs at iterations 0, 100, 1000 and 1900."),
    "course4": ("Course 4-layer network",
                "cat / non-cat, layers [12288, 20, 7, 5, 1], the course's seed-1 draws, rate "
                "0.0075, full batch, 2500 iterations; costs at iterations 0 and 2400. felis "
                "in float64 (the Gram path; float32 runs on the pixels) against the course's float64 numpy. The numpy scripts follow the "
                "course's code, which also computes the unused gradient of the input pixels."),
    "softmax": ("Softmax regression",
                "Fashion-MNIST (60,000 training, 10,000 test images), pixels / 255. felis "
                "with 10 epochs of SGD, batch 128, rate 0.5 decaying by 0.65 per epoch, "
                "float32 (its preset runs 15 epochs in float64); scikit-learn's multinomial LogisticRegression, lbfgs, "
                "max_iter 100, float64."),
    "cnn": ("Small CNN",
            "Fashion-MNIST, conv 3x3x32, ReLU, max pool 2, conv 3x3x64, ReLU, max pool 2, "
            "dense 128, ReLU, dense 10; Adam at 1e-3, batch 64, 3 epochs, float32. Training "
            "images/s cover epochs 2 and 3 (epoch 1 is the warm-up; a one-epoch run counts "
            "epoch 1), training steps only. Inference: felis evaluate on the 10,000 test "
            "images; PyTorch in batches of 1000, the second of two passes."),
}


def _cost_text(costs, keys):
    shown = [f"{costs[key]:.6f}" for key in keys if key in costs]
    return " / ".join(shown) if shown else "n/a"


def _speedup_text(felis, peer):
    """Return felis's speed-up over the peer, whole process, then training loop."""
    whole = target_checks.speedup(felis, peer)
    inner = target_checks.speedup(felis, peer, "inner_seconds")
    text = f"{whole:.2f}x" if whole else "n/a"
    if inner:
        text += f" ({inner:.2f}x)"
    return text


def _work_section(work, combined, peak, labels):
    title, description = TITLES[work]
    felis = combined["felis"]
    lines = [f"### {title}", "", description, ""]
    if work == "cnn":
        return lines + _cnn_table(combined, peak, labels)
    cost_keys = {"logreg": ["0", "100", "1000", "1900"], "course4": ["0", "2400"]}.get(work, [])
    cost_header = f"costs ({', '.join(cost_keys)})" if cost_keys else "costs"
    lines += [
        f"| program | whole process, s | training, s | felis speed-up, whole process "
        f"(training) | {cost_header} | train / test accuracy | peak RSS | floor reached |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for key, figures in combined.items():
        speed = "-"
        if key != "felis":
            speed = _speedup_text(felis, figures)
            counts, reason = target_checks.accuracy_kept(work, felis, figures)
            if not counts:
                speed += " (does not count)"
                notes.append(f"The speed-up over {labels[key]} does not count: {reason}.")
        accuracy = (f"{_percent(figures.get('train_accuracy'))} / "
                    f"{_percent(figures.get('test_accuracy'))}")
        costs = _cost_text(figures["costs"], cost_keys) if cost_keys else "-"
        lines.append(
            f"| {labels[key]} | {_seconds(figures, 'wall_seconds')} | "
            f"{_seconds(figures, 'inner_seconds')} | {speed} | {costs} | {accuracy} | "
            f"{_bytes(figures.get('peak_rss_bytes'))} | "
            f"{_floor_fraction(_fraction_of_floor(figures, peak))} |")

    if felis.get("gram"):
        notes.append("felis trained on the 209 x 209 Gram matrix of the training images "
                     "(its metrics' gram field), which needs far less arithmetic than the "
                     "count above, so its floor fraction can pass 100 %.")
    if work == "softmax":
        notes.append("The scikit-learn row's floor fraction counts one pass per lbfgs "
                     "iteration, a lower bound on its work, so its fraction is a lower "
                     "bound too. felis's training time leaves out the per-epoch scoring.")
    if cost_keys:
        reference = works.LOGREG_COURSE_COSTS if work == "logreg" else works.COURSE4_COURSE_COSTS
        accuracy = (works.LOGREG_COURSE_ACCURACY if work == "logreg"
                    else works.COURSE4_COURSE_ACCURACY)
        notes.append(f"The course's figures: costs {' / '.join(f'{v:.6f}' for v in reference.values())} "
                     f"at iterations {', '.join(reference)}; train {accuracy['train']:.2f} %, "
                     f"test {accuracy['test']:.2f} %.")
    return lines + ([""] + notes if notes else [])


def _cnn_table(combined, peak, labels):
    train_flops, inference_flops = works.cnn_flops_per_image()
    felis = combined["felis"]
    lines = [
        "| program | training images/s | inference images/s | test accuracy | "
        "whole training process, s | peak RSS | floor reached, training / inference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, figures in combined.items():
        train_rate = figures.get("train_images_per_second")
        inference_rate = figures.get("inference_images_per_second")
        train_floor = train_rate * train_flops / (peak * 1e9) if train_rate else None
        inference_floor = inference_rate * inference_flops / (peak * 1e9) if inference_rate else None
        inference = _rate(figures, "inference_images_per_second")
        if figures.get("inference_rate_source", "reported") != "reported":
            inference += " (estimate)"
        lines.append(
            f"| {labels[key]} | {_rate(figures, 'train_images_per_second')} | {inference} | "
            f"{_percent(figures.get('test_accuracy'))} | {_seconds(figures, 'wall_seconds')} | "
            f"{_bytes(figures.get('peak_rss_bytes'))} | "
            f"{_floor_fraction(train_floor)} / {_floor_fraction(inference_floor)} |")
    notes = []
    for key, figures in combined.items():
        if key == "felis":
            continue
        training = target_checks.rate_ratio(felis, figures, "train_images_per_second")
        inference = target_checks.rate_ratio(felis, figures, "inference_images_per_second")
        memory = (felis["peak_rss_bytes"] / figures["peak_rss_bytes"]
                  if figures.get("peak_rss_bytes") else None)
        counts, reason = target_checks.accuracy_kept("cnn", felis, figures)
        text = (f"felis against {labels[key]}: {_times(training)} the training images/s, "
                f"{_times(inference)} the inference images/s, "
                f"{'n/a' if memory is None else f'{memory:.2f}'} of the peak RSS.")
        if not counts:
            text += f" The speed-ups do not count: {reason}."
        notes.append(text)
        rates = ", ".join(f"{rate:,.0f}" for rate in figures.get("epoch_rates", []))
        notes.append(f"{labels[key]}'s training images/s per epoch: {rates}.")
    rates = ", ".join(f"{rate:,.0f}" for rate in felis.get("epoch_rates", []))
    notes.append(f"felis's training images/s per epoch: {rates}. felis's peak RSS is the larger "
                 "of its train and evaluate processes'.")
    if felis.get("inference_rate_source") != "reported":
        notes.append("felis evaluate writes no images/s yet, so its inference rate here is "
                     "the test images divided by the whole evaluate process's wall time, "
                     "model and data loading included: an underestimate.")
    return lines + [""] + notes


def _targets_section(checked, quick):
    lines = ["### Targets", ""]
    if quick:
        lines += ["A quick run does less work than the targets assume; these lines only "
                  "show that the check runs.", ""]
    lines += ["| work | target | result | measured |", "| --- | --- | --- | --- |"]
    for target in checked:
        lines.append(f"| {target.work} | {target.description} | "
                     f"{'PASS' if target.passed else 'FAIL'} | {target.detail} |")
    return lines


def render(run, machine, build, peer_versions, gemm, peak, combined, labels, checked):
    """Return the generated Markdown for one run."""
    lines = _run_section(run)
    lines += [""] + _machine_section(machine, build, peer_versions)
    lines += [""] + _floor_section(gemm, peak)
    for work in works.WORK_KEYS:
        if work in combined:
            lines += [""] + _work_section(work, combined[work], peak, labels[work])
    lines += [""] + _targets_section(checked, run["quick"])
    return "\n".join(lines) + "\n"
