"""Two staff deciding at once: 50 concurrent POST /api/v1/rounds/1/decisions on one new pair, through a real
server (``python -m web``, waitress), repeated ROUNDS times; prints the count of each HTTP status.

Usage: ``python bench/race_decisions.py TREE SQLITE_URL PORT LEAD PARTNER ROUNDS`` where TREE is a checkout of
the project (this one, or an older commit to compare), SQLITE_URL a database with round 1 loaded
(``matcher demo load``) and LEAD, PARTNER the 사업자등록번호 of a lead and a partner of one of its tracks.
Between rounds the decisions table is emptied, so every round decides on a new pair.
"""
import http.client, json, os, subprocess, sys, threading, time, socket, collections
from http.cookies import SimpleCookie

tree, url, port, lead, partner, rounds_ = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
env = dict(os.environ, DATABASE_URL=url, MATCHER_STAFF_PASSWORD="race-password-123", MATCHER_SECRET_KEY="race",
           PYTHONPATH=tree)
log = open(os.devnull, "w")
proc = subprocess.Popen([sys.executable, "-m", "web", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tree)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close(); break
    except OSError:
        time.sleep(0.2)

def call(method, path, body=None, cookie="", token=""):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "Cookie": cookie, "X-CSRFToken": token}
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = c.getresponse(); data = r.read(); return r, data

r, data = call("GET", "/api/v1/csrf-token")
cookie = "; ".join(f"{k}={v.value}" for k, v in SimpleCookie(r.getheader("Set-Cookie")).items())
token = json.loads(data)["csrf_token"]
r, data = call("POST", "/api/v1/session", {"username": "staff", "password": "race-password-123"}, cookie, token)
cookie = "; ".join(f"{k}={v.value}" for k, v in SimpleCookie(r.getheader("Set-Cookie")).items()) or cookie
statuses = collections.Counter()
for n in range(rounds_):
    barrier = threading.Barrier(50)
    def one(i):
        barrier.wait()
        r, _ = call("POST", "/api/v1/rounds/1/decisions", {"lead": lead, "partner": partner, "kind": "reject" if i % 2 else "forbid", "note": f"n{i}"}, cookie, token)
        statuses[r.status] += 1
    ts = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    [t.start() for t in ts]; [t.join() for t in ts]
    # clear for the next round: delete the row directly via the old/new API is not uniform; use sqlite
    import sqlite3
    con = sqlite3.connect(url.replace("sqlite:///", "")); con.execute("DELETE FROM decisions"); con.commit(); con.close()
proc.terminate(); proc.wait()
print(tree, dict(statuses))
