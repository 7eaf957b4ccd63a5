# bench/tlsfront.sh - TLS with HTTP/2 in front of bench/fakeup, sourced
# by bench/run.  The same shape as tests/tls_front.py (which the bench
# does not import: it needs the test harness): a throwaway CA made here
# with openssl signs a certificate for localhost and 127.0.0.1; nginx
# listens with `ssl http2` and proxies, unbuffered, to the fake upstream
# over plain HTTP/1.1.  The responder is pointed at
# https://localhost:PORT/v1 with MATCHJOBS_CA_FILE = the CA.  nginx's
# access log has one line per call: the protocol the responder spoke, the
# serial number of the TLS connection it came on ($connection), whether
# that connection's TLS session was resumed, the status and the time.
#
#   tls_front_start DIR BACKEND_PORT    sets tls_port, tls_ca, tls_pid, tls_log
#   tls_calls_mark                      prints the log's line count now
#   tls_calls_since N                   prints "calls= connections= h2= ..."
#                                       for the lines after line N

tls_make_ca() {	# dir: ca.pem, server.pem, server.key
	local d=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
	    -subj "/CN=matchjobs bench CA" >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/server.key" -out "$d/server.csr" \
	    -subj "/CN=localhost" >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
	    > "$d/server.ext" &&
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
	    -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.pem" -days 2 \
	    -extfile "$d/server.ext" >/dev/null 2>&1
}

# Two workers, as a real front has more than one; $connection is
# nginx's global serial number, unique across workers.  128 streams per
# HTTP/2 connection, as the tests' front (servers commonly allow 100-256).
tls_front_start() {	# dir backend_port
	local d=$1 backend=$2
	mkdir -p "$d"
	tls_make_ca "$d" || { say "tls: openssl could not make the CA"; return 1; }
	tls_port=$(free_port)
	tls_ca=$d/ca.pem
	tls_log=$d/access.log
	: > "$tls_log"
	cat > "$d/nginx.conf" <<NGINX
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 2;
worker_rlimit_nofile $nofile;
pid $d/nginx.pid;
error_log $d/error.log warn;
daemon off;
events { worker_connections 8192; }
http {
    log_format calls '\$server_protocol \$connection \$ssl_session_reused \$status \$request_time';
    access_log $tls_log calls;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    upstream fake {
        server 127.0.0.1:$backend;
        keepalive 256;
    }
    server {
        listen 127.0.0.1:$tls_port ssl http2;
        ssl_certificate $d/server.pem;
        ssl_certificate_key $d/server.key;
        ssl_session_cache shared:bench:10m;
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
NGINX
	nginx -p "$d" -c "$d/nginx.conf" 2>>"$d/error.log" &
	tls_pid=$!
	pids+=("$tls_pid")
	for _ in $(seq 100); do
		curl -fs --cacert "$tls_ca" "https://localhost:$tls_port/health" \
		    >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	say "tls: the TLS front did not start"; tail -5 "$d/error.log" >&2
	return 1
}

tls_workers() { pgrep -P "$tls_pid" | tr '\n' ' '; }

tls_calls_mark() { wc -l < "$tls_log"; }

# calls: requests logged; connections: distinct $connection; h2: calls
# over HTTP/2; resumed: connections whose TLS session was resumed
# (abbreviated handshake); non200: calls whose status was not 200.
tls_calls_since() {	# line
	tail -n +"$(( $1 + 1 ))" "$tls_log" | awk '
	    { calls++; if ($1 == "HTTP/2.0") h2++; if ($4 != 200) bad++
	      if (!($2 in seen)) { seen[$2] = 1; conns++; if ($3 == "r") res++ } }
	    END { printf "calls=%d\nconnections=%d\nh2=%d\nresumed=%d\nnon200=%d\n",
	          calls, conns, h2, res, bad }'
}
