#!/usr/bin/env python3
"""Runs README.md's commands as a newcomer would, in a fresh clone of HEAD.

1. The first command of the README's first ```sh block (`cargo run --release --
   serve`): it must serve, and /health must answer 200, within the time limit.
2. The whole ```sh block under "## Five-minute quick start", as one bash
   script (`set -euo pipefail`): every command must succeed, and every output
   line the README shows (a comment `#   …`, where `…` stands for anything)
   must be printed, in order.

So a README that drifts from the code fails CI. The clone builds from
nothing in its own `target/`, as a newcomer's would.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEALTH = "http://127.0.0.1:8000/health"
BUILD_AND_START_SECONDS = 1800
QUICK_START_SECONDS = 900


def fail(message):
    print(f"readme: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def sh_blocks(text):
    """Each ```sh block: (the heading above it, its lines)."""
    blocks, heading, inside, lines = [], "", False, []
    for line in text.splitlines():
        if not inside and line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.strip() == "```sh" and not inside:
            inside, lines = True, []
        elif line.strip() == "```" and inside:
            inside = False
            blocks.append((heading, lines))
        elif inside:
            lines.append(line)
    return blocks


def first_command(blocks):
    for line in blocks[0][1]:
        command = line.split("  #")[0].strip()
        if command and not command.startswith("#"):
            return command
    fail("the README's first code block has no command")


def quick_start(blocks):
    for heading, lines in blocks:
        if heading.lower().startswith("five-minute quick start"):
            return lines
    fail('the README has no ```sh block under "## Five-minute quick start"')


def expected_output(lines):
    """The output lines the README shows: `#   text`, `…` matching anything."""
    patterns = []
    for line in lines:
        match = re.match(r"^#   (.*)$", line)
        if match:
            parts = [re.escape(p) for p in match.group(1).rstrip().split("…")]
            patterns.append((match.group(1), re.compile("^" + ".*".join(parts) + "$")))
    return patterns


def wait_for_health(deadline, process):
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(HEALTH, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def stop(process):
    """Stops a command started in its own process group, and all it started
    (a server left in the background outlives the shell that started it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(1)


def main():
    readme = open(os.path.join(REPO, "README.md"), encoding="utf-8").read()
    blocks = sh_blocks(readme)
    if not blocks:
        fail("the README has no ```sh code block")
    command = first_command(blocks)
    script = quick_start(blocks)
    try:
        urllib.request.urlopen(HEALTH, timeout=2)
        fail("something already answers on 127.0.0.1:8000; the README's server needs the port")
    except OSError:
        pass

    clone = tempfile.mkdtemp(prefix="tollgate-readme-")
    try:
        subprocess.run(["git", "clone", "-q", REPO, clone], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TOLLGATE_", "CARGO_TARGET_DIR"))}

        print(f"readme: in a fresh clone, the first command: {command}", flush=True)
        log = open(os.path.join(clone, "first-command.log"), "w")
        server = subprocess.Popen(
            ["bash", "-c", command], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.time()
        healthy = wait_for_health(started + BUILD_AND_START_SECONDS, server)
        stop(server)
        log.close()
        if not healthy:
            tail = open(os.path.join(clone, "first-command.log")).read()[-3000:]
            fail(f"`{command}` did not serve {HEALTH} (after {time.time() - started:.0f} s):\n{tail}")
        print(f"readme: it served /health after {time.time() - started:.0f} s", flush=True)

        print("readme: the quick start, as one bash script", flush=True)
        body = "set -euo pipefail\n" + "\n".join(script) + "\n"
        quick = subprocess.Popen(
            ["bash", "-c", body], cwd=clone, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )
        try:
            out, err = quick.communicate(timeout=QUICK_START_SECONDS)
        except subprocess.TimeoutExpired:
            stop(quick)
            fail(f"the quick start did not finish in {QUICK_START_SECONDS} s")
        finally:
            stop(quick)
        print(out, end="")
        if quick.returncode != 0:
            fail(f"the quick start stopped with status {quick.returncode}:\n{err[-3000:]}")
        printed = out.splitlines()
        position = 0
        for shown, pattern in expected_output(script):
            while position < len(printed) and not pattern.match(printed[position]):
                position += 1
            if position == len(printed):
                fail(f"the quick start did not print what the README shows: `{shown}`")
            position += 1
        print("readme: the README's commands work as written", flush=True)
    finally:
        shutil.rmtree(clone, ignore_errors=True)


if __name__ == "__main__":
    main()
