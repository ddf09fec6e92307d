"""Descriptions of the benchmark machine (CPU, caches, memory) and of the felis build."""

import os
import re
import subprocess

# The CPU flags that decide which GEMM and convolution kernels can run.
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512bw",
             "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile")


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return stream.read()
    except OSError:
        return ""


def _command_output(argv, cwd=None):
    """Return the command's stripped stdout, or None if it is missing or fails."""
    try:
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=30,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def busy_cpu_seconds():
    """Return the CPU seconds all processes have spent since boot, from /proc/stat.

    Counts user, nice, system, irq and softirq time, not idle, I/O wait or steal.
    """
    fields = _read("/proc/stat").splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq = (int(value) for value in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def describe_machine():
    """Return the CPU model, core count, caches, the ISA flags present, and memory."""
    cpuinfo = _read("/proc/cpuinfo")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    flags = re.search(r"^flags\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    present = set(flags.group(1).split()) if flags else set()
    memory = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)

    caches = {}
    lscpu = _command_output(["lscpu"]) or ""
    for name in ("L1d", "L2", "L3"):
        found = re.search(rf"^{name} cache:\s*(.+)$", lscpu, re.MULTILINE)
        if found:
            caches[name] = found.group(1).strip()
    hypervisor = re.search(r"^Hypervisor vendor:\s*(.+)$", lscpu, re.MULTILINE)

    return {
        "cpu_model": model.group(1).strip() if model else "unknown",
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "caches": caches,
        "hypervisor": hypervisor.group(1).strip() if hypervisor else None,
        "isa_flags": [flag for flag in ISA_FLAGS if flag in present],
        "memory_bytes": int(memory.group(1)) * 1024 if memory else None,
        "kernel": os.uname().release,
    }


def debian_package_version(package):
    """Return the installed version of a Debian package, or None."""
    status = _command_output(["dpkg-query", "-W", "-f=${Status} ${Version}", package])
    if not status or not status.startswith("install ok installed"):
        return None
    return status.split()[-1]


def _eigen_version():
    version = debian_package_version("libeigen3-dev")
    if version:
        return version
    macros = _read("/usr/include/eigen3/Eigen/src/Core/util/Macros.h")
    parts = [re.search(rf"#define EIGEN_{part}_VERSION\s+(\d+)", macros)
             for part in ("WORLD", "MAJOR", "MINOR")]
    return ".".join(p.group(1) for p in parts) if all(parts) else None


def _cmake_cache_value(cache_text, key):
    found = re.search(rf"^{key}:[A-Z]+=(.*)$", cache_text, re.MULTILINE)
    return found.group(1).strip() if found else None


def describe_felis_build(root, felis):
    """Return felis's git commit, whether src/ or apps/ differ from it, and its compiler.

    The compiler and build type come from the CMakeCache.txt in the binary's directory.
    A binary built elsewhere or copied has none there, so both are None.
    """
    commit = _command_output(["git", "log", "-1", "--format=%h %cs %s"], cwd=root)
    changes = _command_output(["git", "status", "--porcelain", "--", "src", "apps",
                               "CMakeLists.txt"], cwd=root)
    cache = _read(os.path.join(os.path.dirname(os.path.abspath(felis)), "CMakeCache.txt"))
    compiler_path = _cmake_cache_value(cache, "CMAKE_CXX_COMPILER")
    compiler = None
    if compiler_path:
        version = _command_output([compiler_path, "--version"])
        compiler = version.splitlines()[0] if version else compiler_path
    binary = os.path.abspath(felis)
    if binary.startswith(os.path.abspath(root) + os.sep):
        binary = os.path.relpath(binary, root)
    return {
        "binary": binary,
        "version": _command_output([felis, "--version"]),
        "commit": commit,
        "uncommitted_changes": bool(changes),
        "compiler": compiler,
        "build_type": _cmake_cache_value(cache, "CMAKE_BUILD_TYPE"),
        "eigen": _eigen_version(),
        "openblas_package": debian_package_version("libopenblas0-pthread"),
    }
