// Opens a pseudo-terminal for the tests that drive the counselor's REPL like a person at a
// terminal (posix_openpt and friends are not visible to Swift through Glibc).
#ifndef PSEUDO_TERMINAL_H
#define PSEUDO_TERMINAL_H
#include <stddef.h>

/// The master side's descriptor (or -1), with the slave's path written to `name`.
int pt_open(char *name, size_t size);
/// Sets the terminal's size in columns and rows.
int pt_set_size(int fd, int columns, int rows);

#endif
