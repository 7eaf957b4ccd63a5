/*
 * unit_sandbox.c - the PDF child's seccomp filter denies what it should.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "tap.h"

/* Child: enter the sandbox, try things, report as a bit mask. */
static int
probe(void)
{
	int	 fd, bits;

	if (sandbox_enter() != SANDBOX_OK)
		return 100;
	bits = 0;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 && errno == EPERM)
		bits |= 1;
	fd = open("/tmp/mj-sandbox-probe", O_WRONLY | O_CREAT, 0600);
	if (fd < 0 && errno == EPERM)
		bits |= 2;
	fd = open("/proc/self/status", O_RDONLY);
	if (fd >= 0) {
		bits |= 4;
		close(fd);
	}
	if (fork() < 0 && errno == EPERM)
		bits |= 8;
	if (write(STDOUT_FILENO, "", 0) == 0)
		bits |= 16;
	return bits;
}

int
main(void)
{
	pid_t	 pid;
	int	 st, bits;

	pid = fork();
	if (pid == 0)
		_exit(probe());
	waitpid(pid, &st, 0);
	bits = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (bits == 100) {
		printf("ok 1 # SKIP seccomp not available in this build\n");
		printf("1..1\n");
		return 0;
	}
	ok(bits & 1, "sandboxed child can't open a network socket");
	ok(bits & 2, "... can't create or write files");
	ok(bits & 4, "... can still open files read-only (poppler's data)");
	ok(bits & 8, "... can't start processes");
	ok(bits & 16, "... can write its answer");
	unlink("/tmp/mj-sandbox-probe");
	return tap_done();
}
