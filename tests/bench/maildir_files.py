# How a batch of Maildir files is best made durable (issue 20, POP3 goal): 10,000 files of
# 5 kB in batches of 500, each batch made durable with syncfs and the new/ directory fsynced,
# three ways: tmp/ + rename (what petrel-maildir does), O_TMPFILE + linkat (no tmp/ entry),
# straight into new/ (readers could see half-written files). Linux only, as root for
# /proc/self/fd linkat; run on the file system to measure (it leaves nothing there):
#   python3 tests/bench/maildir_files.py /mnt/pj
import ctypes
import os
import shutil
import sys
import time

FILES = 10_000
BATCH = 500
DATA = os.urandom(5000)
AT_FDCWD = -100
AT_SYMLINK_FOLLOW = 0x400
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def check(rc, what):
    if rc != 0:
        raise OSError(ctypes.get_errno(), what)


def syncfs(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        check(libc.syncfs(fd), "syncfs")
    finally:
        os.close(fd)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, DATA)
    os.close(fd)


def tmp_and_rename(maildir, batch):
    for i in batch:
        write_new(f"{maildir}/tmp/{i}")
    syncfs(maildir)
    for i in batch:
        os.rename(f"{maildir}/tmp/{i}", f"{maildir}/new/{i}")


def tmpfile_and_link(maildir, batch):
    open_files = []
    for i in batch:
        fd = os.open(f"{maildir}/new", os.O_WRONLY | os.O_TMPFILE, 0o600)
        os.write(fd, DATA)
        open_files.append((i, fd))
    syncfs(maildir)
    for i, fd in open_files:
        # Python's os.link does not follow the /proc symlink: linkat with AT_SYMLINK_FOLLOW.
        rc = libc.linkat(AT_FDCWD, f"/proc/self/fd/{fd}".encode(), AT_FDCWD,
                         f"{maildir}/new/{i}".encode(), AT_SYMLINK_FOLLOW)
        os.close(fd)
        check(rc, "linkat")


def straight_into_new(maildir, batch):
    for i in batch:
        write_new(f"{maildir}/new/{i}")
    syncfs(maildir)


WAYS = {"tmp/ + rename": tmp_and_rename, "O_TMPFILE + linkat": tmpfile_and_link,
        "straight into new/": straight_into_new}


def run(root, way):
    maildir = os.path.join(root, "petrel-maildir-bench")
    shutil.rmtree(maildir, ignore_errors=True)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(maildir, sub))
    os.sync()
    started = time.perf_counter()
    for first in range(0, FILES, BATCH):
        way(maildir, range(first, first + BATCH))
        fsync_dir(f"{maildir}/new")
    took = time.perf_counter() - started
    shutil.rmtree(maildir)
    return took


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: maildir_files.py <directory on the file system to measure>")
    times = {name: [] for name in WAYS}
    for _ in range(3):
        for name, way in WAYS.items():
            times[name].append(run(sys.argv[1], way))
    for name, runs in times.items():
        runs.sort()
        print(f"{name}: median {runs[1] * 1000:.0f} ms "
              f"(runs {', '.join(f'{r * 1000:.0f}' for r in runs)})")


main()
