#include "line_editor.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

/// Set by the signal handlers, which may run on any thread, and taken by the reading thread:
/// lock-free atomics (safe in a handler), not `volatile sig_atomic_t`, which only covers a handler on
/// the same thread (ThreadSanitizer reported that race).
static atomic_int le_interrupted = 0;
static atomic_int le_resized = 0;
static char *le_line = NULL;
static int le_done = 0;
static char **le_words = NULL;
static int le_word_count = 0;

/// Self-pipe: a signal may arrive on any thread (the Swift runtime has several), so the handler
/// also writes a byte that wakes the select() of the thread reading the terminal.
static int le_wake[2] = {-1, -1};

static void wake(void) {
    if (le_wake[1] >= 0) {
        int saved = errno;
        ssize_t ignored = write(le_wake[1], "x", 1);
        (void)ignored;
        errno = saved;
    }
}

static void on_sigint(int sig) { (void)sig; atomic_store(&le_interrupted, 1); wake(); }
static void on_sigwinch(int sig) { (void)sig; atomic_store(&le_resized, 1); wake(); }

static void on_line(char *line) {
    le_line = line;
    le_done = 1;
    rl_callback_handler_remove();
}

static char *generate(const char *text, int state) {
    static int next;
    static size_t length;
    if (state == 0) { next = 0; length = strlen(text); }
    while (next < le_word_count) {
        const char *w = le_words[next++];
        if (strncmp(w, text, length) == 0) return strdup(w);
    }
    return NULL;
}

static char **complete(const char *text, int start, int end) {
    (void)start; (void)end;
    rl_attempted_completion_over = 1;  // never fall back to file names
    return rl_completion_matches(text, generate);
}

void le_setup(const char *app_name) {
    // Multibyte input (Japanese) needs a UTF-8 character type.
    const char *ctype = setlocale(LC_CTYPE, "");
    if (ctype == NULL || strstr(nl_langinfo(CODESET), "UTF-8") == NULL) setlocale(LC_CTYPE, "C.UTF-8");
    rl_readline_name = app_name;
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_attempted_completion_function = complete;
    // The whole line is the word to complete: choice labels may hold spaces and brackets.
    rl_completer_word_break_characters = "\n";
    rl_completion_append_character = '\0';
    if (le_wake[0] < 0 && pipe(le_wake) == 0) {
        fcntl(le_wake[0], F_SETFL, O_NONBLOCK);
        fcntl(le_wake[1], F_SETFL, O_NONBLOCK);
        fcntl(le_wake[0], F_SETFD, FD_CLOEXEC);
        fcntl(le_wake[1], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_sigint;  // no SA_RESTART: select() returns EINTR
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_sigwinch;
    sigaction(SIGWINCH, &sa, NULL);
    // A parent may have blocked these (threads of a test runner do): they must reach us.
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGINT);
    sigaddset(&unblock, SIGWINCH);
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    // A terminal that closes must not kill the process before the session is suspended.
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
}

char *le_read(const char *prompt, le_status *status) {
    le_done = 0;
    le_line = NULL;
    atomic_store(&le_interrupted, 0);
    rl_callback_handler_install(prompt, on_line);
    int fd = fileno(rl_instream ? rl_instream : stdin);
    while (!le_done) {
        if (atomic_exchange(&le_interrupted, 0)) {
            rl_free_line_state();
            rl_callback_sigcleanup();
            rl_callback_handler_remove();
            fputs("^C\n", rl_outstream ? rl_outstream : stdout);
            fflush(rl_outstream ? rl_outstream : stdout);
            *status = LE_INTERRUPT;
            return NULL;
        }
        if (atomic_exchange(&le_resized, 0)) {
            rl_resize_terminal();
        }
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(fd, &fds);
        int top = fd;
        if (le_wake[0] >= 0) {
            FD_SET(le_wake[0], &fds);
            if (le_wake[0] > top) top = le_wake[0];
        }
        int ready = select(top + 1, &fds, NULL, NULL, NULL);
        if (ready < 0) {
            if (errno == EINTR) continue;
            rl_callback_handler_remove();
            *status = LE_EOF;
            return NULL;
        }
        if (le_wake[0] >= 0 && FD_ISSET(le_wake[0], &fds)) {
            char drain[16];
            while (read(le_wake[0], drain, sizeof drain) > 0) {}
        }
        if (FD_ISSET(fd, &fds)) rl_callback_read_char();
    }
    *status = le_line ? LE_LINE : LE_EOF;
    return le_line;
}

void le_set_words(const char *const *words, int count) {
    for (int i = 0; i < le_word_count; i++) free(le_words[i]);
    free(le_words);
    le_words = NULL;
    le_word_count = 0;
    if (count <= 0) return;
    le_words = calloc((size_t)count, sizeof(char *));
    if (le_words == NULL) return;
    for (int i = 0; i < count; i++) {
        le_words[i] = strdup(words[i]);
        if (le_words[i] == NULL) { le_word_count = i; return; }
    }
    le_word_count = count;
}

void le_history_add(const char *line) { add_history(line); }

int le_history_load(const char *path) {
    int r = read_history(path);
    return r == ENOENT ? 0 : r;
}

int le_history_append(const char *path, int max) {
    /* Created 0600 in one call, never readable by others even for a moment (fopen then chmod
       left it 0666 & ~umask between the two). An existing file, or a link, is left as it is. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    else if (errno != EEXIST) return errno;
    int r = append_history(1, path);
    if (r == 0) history_truncate_file(path, max);
    return r;
}

int le_columns(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    int n = env ? atoi(env) : 0;
    return n > 0 ? n : 80;
}

int le_rows(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws.ws_row;
    const char *env = getenv("LINES");
    int n = env ? atoi(env) : 0;
    return n > 0 ? n : 24;
}

int le_read_key(const char *prompt) {
    FILE *out = rl_outstream ? rl_outstream : stdout;
    int fd = fileno(rl_instream ? rl_instream : stdin);
    fputs(prompt, out);
    fflush(out);
    struct termios saved;
    int raw_mode = tcgetattr(fd, &saved) == 0;
    if (raw_mode) {
        struct termios raw = saved;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(fd, TCSANOW, &raw);
    }
    unsigned char c = 0;
    ssize_t n;
    do { n = read(fd, &c, 1); } while (n < 0 && errno == EINTR);
    if (raw_mode) {
        tcflush(fd, TCIFLUSH);
        tcsetattr(fd, TCSANOW, &saved);
    }
    fputs("\r\033[K", out);
    fflush(out);
    return n == 1 ? (int)c : -1;
}
