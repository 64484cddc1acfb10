# tools/stdout.sh — say: lines on stdout, for tools/cores and tools/mpirun.
#
# Sourced, after the script has set TOOL (the name its messages begin with).
#
# A shell's echo into a full disk or a closed stdout says "write error"
# and goes on: the script would end with status 0, its answer lost. say
# writes all its lines at once, and where that fails says so in one line
# (as the harness's Python tools do) and ends the script with status 1. A
# reader that has gone (tools/mpirun --help | head) ends it quietly, as
# SIGPIPE ends any command: with status 141, nothing said.

# say LINE...: each LINE and a newline on stdout, or exit 1 with a message.
say() {
    local error='' status
    # printf's stdout goes to the script's (fd 3); its error message, if any, is caught.
    { error=$(printf '%s\n' "$@" 2>&1 >&3 3>&-); } 2>/dev/null 3>&1 && return 0
    status=$?
    if [ -n "$error" ]; then
        error=${error##*: }             # "printf: write error: No space left on device"
    elif [ "$status" -gt 128 ]; then
        exit "$status"                  # printf killed by SIGPIPE: the reader is gone
    else
        error="Bad file descriptor"     # stdout closed (>&-): not even the redirection was possible
    fi
    echo "$TOOL: cannot write to stdout: $error" >&2
    exit 1
}
