#!/usr/bin/python3
"""The notmuch side of `npm run bench -- search`, in-process (python3-notmuch2 over
libnotmuch): the database is opened once, as a mail client holds it, so no process start
is measured. Reads queries as JSON lines on stdin: {"name", "query", "limit", "runs",
"ids"}; prints one JSON line per query: the times of each run in ms and, with "ids", the
Message-IDs of every match."""
import json
import sys
import time

import notmuch2

db = notmuch2.Database(sys.argv[1], mode=notmuch2.Database.MODE.READ_ONLY)
for line in sys.stdin:
    q = json.loads(line)
    times = []
    for _ in range(q["runs"]):
        t = time.perf_counter()
        found = []
        for m in db.messages(q["query"], sort=notmuch2.Database.SORT.NEWEST_FIRST, exclude_tags=[]):
            found.append(m.messageid)
            if q["limit"] and len(found) >= q["limit"]:
                break
        times.append((time.perf_counter() - t) * 1000.0)
    ids = []
    if q.get("ids"):
        ids = [m.messageid for m in db.messages(q["query"], exclude_tags=[])]
    print(json.dumps({"name": q["name"], "ms": times, "ids": ids}), flush=True)
