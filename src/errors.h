/*
 * errors.h - the error codes of the HTTP API and their statuses, in one
 * table (SPEC "Errors").
 *
 * Every error the responder answers with, before a stream starts or in
 * a run's final `error` frame, has a stable code; its HTTP status is
 * looked up here, never written beside the code at the call site, so a
 * code always answers with the same status on every route.  Job-level
 * codes (upstream_auth, bad_answer, ...) appear inside results, not as
 * a request's status; they are listed so that a run every one of whose
 * jobs failed has a status too.
 */
#ifndef MJ_ERRORS_H
#define MJ_ERRORS_H

/* The HTTP status of code; 500 for a code not in the table. */
int		 err_status(const char *code);
/* Nonzero if code is in the table. */
int		 err_known(const char *code);

#endif /* MJ_ERRORS_H */
