"""TLS with HTTP/2 in front of the fake upstream, as api.openai.com is
reached in real deployments.

A throwaway CA (made here with the openssl command, never committed)
signs a certificate for localhost and 127.0.0.1; a real nginx listens
with `ssl http2` and proxies, unbuffered, to tests/fake_openai.py over
plain HTTP.  The responder is pointed at https://localhost:PORT/v1 with
MATCHJOBS_CA_FILE = the CA.  nginx's access log records, per call, the
protocol the responder spoke and the TLS connection it came on, so tests
and benchmarks can count connections and check that HTTP/2 was used.

    with TLSFront(tmp, fake.port) as front:
        env = {"OPENAI_BASE_URL": front.base_url,
               "MATCHJOBS_CA_FILE": front.ca_file}
        ...
        front.calls()   # [{"protocol": "HTTP/2.0", "connection": 3, ...}]
"""

import os
import shutil
import subprocess

import webservers as W

NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
OPENSSL_BIN = shutil.which("openssl") or "/usr/bin/openssl"


def run(*args):
    subprocess.run(args, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(d):
    """A CA and a server certificate for localhost/127.0.0.1 under d.
    Returns (ca.pem, server.pem, server.key)."""
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr = os.path.join(d, "server.key"), os.path.join(d, "server.csr")
    crt, ext = os.path.join(d, "server.pem"), os.path.join(d, "server.ext")
    run(OPENSSL_BIN, "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
        "-out", ca, "-days", "2", "-subj", "/CN=matchjobs test CA")
    run(OPENSSL_BIN, "req", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\n")
    run(OPENSSL_BIN, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey",
        ca_key, "-CAcreateserial", "-out", crt, "-days", "2",
        "-extfile", ext)
    return ca, crt, key


class TLSFront(W.Server):
    """nginx with TLS and HTTP/2 on a free port, proxying to the fake."""

    name = "tls-front"

    def __init__(self, tmp, backend_port, workers=1, connections=4096):
        tmp = os.path.join(tmp, "tls-front")
        os.makedirs(tmp, exist_ok=True)
        super().__init__(tmp)
        self.backend_port = backend_port
        self.workers = workers
        self.connections = connections
        self.access_log = os.path.join(tmp, "access.log")
        self.ca_file = None

    @property
    def base_url(self):
        return "https://localhost:%d/v1" % self.port

    def write_config(self):
        self.ca_file, crt, key = make_ca(self.tmp)
        t = self.tmp
        conf = """%(user)s
worker_processes %(workers)d;
worker_rlimit_nofile %(nofile)d;
pid %(t)s/nginx.pid;
error_log %(err)s warn;
daemon off;
events { worker_connections %(conns)d; }
http {
    log_format calls '$server_protocol $connection $status $request_time';
    access_log %(access)s calls;
    client_body_temp_path %(t)s/body;
    proxy_temp_path %(t)s/proxy;
    fastcgi_temp_path %(t)s/fastcgi;
    uwsgi_temp_path %(t)s/uwsgi;
    scgi_temp_path %(t)s/scgi;
    upstream fake {
        server 127.0.0.1:%(backend)d;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:%(port)d ssl http2;
        ssl_certificate %(crt)s;
        ssl_certificate_key %(key)s;
        http2_max_concurrent_streams 128;
        keepalive_requests 100000;
        location / {
            proxy_pass http://fake;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 600s;
        }
    }
}
""" % {"user": "user root;" if os.geteuid() == 0 else "", "t": t,
            "workers": self.workers, "conns": self.connections,
            "nofile": self.connections * 3, "err": self.errlog,
            "access": self.access_log, "backend": self.backend_port,
            "port": self.port, "crt": crt, "key": key}
        self.conf = os.path.join(t, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def command(self):
        return [NGINX_BIN, "-p", self.tmp, "-c", self.conf]

    def calls(self):
        """One dict per request nginx finished: protocol, connection
        (nginx's serial number of the client connection), status."""
        out = []
        try:
            with open(self.access_log) as f:
                for line in f:
                    p = line.split()
                    if len(p) >= 3:
                        out.append({"protocol": p[0],
                                    "connection": int(p[1]),
                                    "status": int(p[2])})
        except OSError:
            pass
        return out
