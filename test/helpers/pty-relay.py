"""Runs a command on a real pseudo-terminal and relays it: our stdin is typed into the terminal (a ^C byte there is
a Ctrl-C: the line discipline turns it into SIGINT for the foreground process group, or hands it to a program in
raw mode), everything the program writes on the terminal comes out on our stdout, byte for byte.

Usage: python3 pty-relay.py ROWS COLS COMMAND [ARG ...]
The command is a session leader with the terminal as its controlling tty, ROWS x COLS set before it starts.
Prints "pid N" on stderr; exits with the command's exit code (128 + signal when a signal ended it). Our stdin
reaching its end means whoever typed is gone (the test process ended or was killed): the terminal is hung up, so
the program gets SIGHUP as when a terminal window is closed, and nothing is left running.
"""
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time

rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
pid, master = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(argv[0], argv)

sys.stderr.write(f'pid {pid}\n')
sys.stderr.flush()
hung_up = False
while True:
    readable, _, _ = select.select([master, 0], [], [])
    if 0 in readable:
        data = os.read(0, 4096)
        if data:
            os.write(master, data)
        else:
            os.close(master)  # hang up: the kernel sends SIGHUP to the program's process group
            hung_up = True
            break
    if master in readable:
        try:
            data = os.read(master, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b''
        if not data:
            break
        os.write(1, data)

reaped = (0, 0)
if hung_up:  # a program that ignores SIGHUP is not left behind either
    deadline = time.monotonic() + 5
    while reaped == (0, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
        reaped = os.waitpid(pid, os.WNOHANG)
    if reaped == (0, 0):
        os.kill(pid, signal.SIGKILL)
_, status = reaped if reaped != (0, 0) else os.waitpid(pid, 0)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
