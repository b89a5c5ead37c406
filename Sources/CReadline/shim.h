// GNU readline (libreadline-dev; GPL-3.0: see README's licence notes), for the counselor's terminal.
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>
