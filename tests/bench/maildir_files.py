# How a batch of Maildir files is best made durable (issue 20, POP3 goal): 10,000 files of
# 5 kB in batches of 500, each batch made durable with syncfs and the new/ directory fsynced,
# three ways: tmp/ + rename (what petrel-maildir does), O_TMPFILE + linkat (no tmp/ entry),
# straight into new/ (readers could see half-written files). Linux only, as root for
# /proc/self/fd linkat; run on the file system to measure:
#   python3 tests/bench/maildir_files.py /mnt/pj
import os, time, sys, shutil
root = sys.argv[1]; N = 10000; BATCH = 500; data = os.urandom(5000)
def fresh(name):
    d = os.path.join(root, name)
    shutil.rmtree(d, ignore_errors=True)
    for s in ("tmp", "new", "cur"): os.makedirs(os.path.join(d, s))
    os.sync()
    return d
import ctypes
libc = ctypes.CDLL("libc.so.6", use_errno=True)
def sfs(d):
    fd = os.open(d, os.O_RDONLY); libc.syncfs(fd); os.close(fd)
def dsync(p):
    fd = os.open(p, os.O_RDONLY); os.fsync(fd); os.close(fd)
def rename_way(d):
    for b in range(0, N, BATCH):
        names = []
        for i in range(b, b + BATCH):
            p = f"{d}/tmp/{i}.x"
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600); os.write(fd, data); os.close(fd)
            names.append(i)
        sfs(d)
        for i in names: os.rename(f"{d}/tmp/{i}.x", f"{d}/new/{i}.x")
        dsync(f"{d}/new")
def tmpfile_way(d):
    for b in range(0, N, BATCH):
        fds = []
        for i in range(b, b + BATCH):
            fd = os.open(f"{d}/new", os.O_WRONLY | os.O_TMPFILE, 0o600); os.write(fd, data)
            fds.append((i, fd))
        sfs(d)
        for i, fd in fds:
            rc = libc.linkat(-100, f"/proc/self/fd/{fd}".encode(), -100, f"{d}/new/{i}.x".encode(), 0x400)
            if rc != 0: raise OSError(ctypes.get_errno(), "linkat")
            os.close(fd)
        dsync(f"{d}/new")
def direct_way(d):
    for b in range(0, N, BATCH):
        for i in range(b, b + BATCH):
            fd = os.open(f"{d}/new/{i}.x", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600); os.write(fd, data); os.close(fd)
        sfs(d); dsync(f"{d}/new")
ways = {"rename": rename_way, "tmpfile": tmpfile_way, "direct": direct_way}
res = {k: [] for k in ways}
for r in range(3):
    for k, f in ways.items():
        d = fresh(k); t = time.perf_counter(); f(d); res[k].append(time.perf_counter() - t)
for k, v in res.items():
    v.sort(); print(f"{k}: median {v[1]*1000:.0f} ms (runs {', '.join(f'{x*1000:.0f}' for x in v)})")
