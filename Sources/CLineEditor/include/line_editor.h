// A small line editor over GNU readline's callback interface, so that Ctrl-C can clear the line
// (and be told apart from the end of input) without Swift touching C globals or signal handlers.
#ifndef LINE_EDITOR_H
#define LINE_EDITOR_H

typedef enum {
    LE_LINE = 0,       // a line was read (returned, malloc'd: free it)
    LE_EOF = 1,        // Ctrl-D on an empty line, or the terminal went away
    LE_INTERRUPT = 2,  // Ctrl-C: the line being typed was cleared
} le_status;

/// Sets up readline once: UTF-8 input, signal handling, completion from `le_set_words`.
void le_setup(const char *app_name);
/// Reads a line with `prompt`; NULL unless *status == LE_LINE.
char *le_read(const char *prompt, le_status *status);
/// The words Tab completes the whole line to (commands, the current question's choice labels).
void le_set_words(const char *const *words, int count);
void le_history_add(const char *line);
/// Reads the history file (missing is fine). Returns 0 or an errno.
int le_history_load(const char *path);
/// Appends the last added line to the history file and keeps at most `max` lines in it.
int le_history_append(const char *path, int max);
/// The terminal's width in columns (80 when it cannot be told).
int le_columns(void);
/// The terminal's height in rows (24 when it cannot be told).
int le_rows(void);
/// Shows `prompt`, reads one key without echo (no Enter needed; Ctrl-C and Ctrl-D are keys here),
/// discards the rest of a multibyte key, and erases the prompt. The key's first byte, or -1 when
/// the terminal went away.
int le_read_key(const char *prompt);

#endif
