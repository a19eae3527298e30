package remotetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// StartNginx runs Debian's nginx as a Bazel-style HTTP cache: WebDAV PUT into a root in a
// temporary directory, on a free port of 127.0.0.1, until the test ends. It returns the
// base URL (http://127.0.0.1:port, no trailing slash; any path under it is a cache) and the
// root, where the object at URL path /p is the file root/p. Without nginx it skips the test,
// or fails it where Required.
func StartNginx(t testing.TB) (url, root string) {
	t.Helper()
	bin := findBinary("nginx", "/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")
	if bin == "" {
		missingServer(t, "nginx", installNginx)
	}
	dir := t.TempDir()
	root = filepath.Join(dir, "www")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	// Workers run as the "user" directive's user when the master runs as root, by default
	// nobody, who cannot write into root's 0700 temporary directory.
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	// Every path nginx would otherwise take from its build (/var/lib/nginx, /var/log/nginx,
	// /run/nginx.pid) is under dir, so that it runs unprivileged and leaves nothing behind.
	conf := fmt.Sprintf(`%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
events { worker_connections 256; }
http {
	access_log %[2]s/access.log;
	client_body_temp_path %[2]s/body;
	proxy_temp_path %[2]s/proxy;
	fastcgi_temp_path %[2]s/fastcgi;
	uwsgi_temp_path %[2]s/uwsgi;
	scgi_temp_path %[2]s/scgi;
	server {
		listen %[3]s;
		root %[4]s;
		client_max_body_size 0;
		location / {
			dav_methods PUT;
			create_full_put_path on;
			dav_access user:rw group:r all:r;
		}
	}
}
`, user, dir, addr, root)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	errLog := filepath.Join(dir, "error.log")
	cmd := exec.Command(bin, "-e", errLog, "-c", confPath, "-p", dir, "-g", "daemon off;")
	startServer(t, cmd, addr, errLog)
	return "http://" + addr, root
}
