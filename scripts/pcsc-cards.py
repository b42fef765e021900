#!/usr/bin/env python3
"""Print the PC/SC readers that hold a card, one per line ("READER<TAB>ATR").

Used by `make run` to decide whether the virtual card is needed. Talks to
libpcsclite directly (ctypes, standard library only). Exit 0 always; prints
nothing when PC/SC is unavailable or no reader holds a card.
"""
import ctypes
import ctypes.util
import sys

SCARD_SCOPE_SYSTEM = 2
SCARD_STATE_UNAWARE = 0
SCARD_STATE_PRESENT = 0x20
MAX_ATR = 33


class ReaderState(ctypes.Structure):
    # pcsc-lite's SCARD_READERSTATE (DWORD is unsigned long on Linux).
    _fields_ = [("szReader", ctypes.c_char_p), ("pvUserData", ctypes.c_void_p),
                ("dwCurrentState", ctypes.c_ulong), ("dwEventState", ctypes.c_ulong),
                ("cbAtr", ctypes.c_ulong), ("rgbAtr", ctypes.c_ubyte * MAX_ATR)]


def main() -> int:
    name = ctypes.util.find_library("pcsclite") or "libpcsclite.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return 0
    ctx = ctypes.c_long()
    if lib.SCardEstablishContext(SCARD_SCOPE_SYSTEM, None, None, ctypes.byref(ctx)) != 0:
        return 0
    try:
        size = ctypes.c_ulong(0)
        if lib.SCardListReaders(ctx, None, None, ctypes.byref(size)) != 0 or size.value == 0:
            return 0
        buf = ctypes.create_string_buffer(size.value)
        if lib.SCardListReaders(ctx, None, buf, ctypes.byref(size)) != 0:
            return 0
        names = [n for n in buf.raw[: size.value].split(b"\0") if n]
        states = (ReaderState * len(names))()
        for state, reader in zip(states, names):
            state.szReader = reader
            state.dwCurrentState = SCARD_STATE_UNAWARE
        if lib.SCardGetStatusChange(ctx, ctypes.c_ulong(0), states, ctypes.c_ulong(len(names))) != 0:
            return 0
        for state in states:
            if state.dwEventState & SCARD_STATE_PRESENT:
                atr = bytes(state.rgbAtr[: state.cbAtr]).hex().upper()
                print(f"{state.szReader.decode(errors='replace')}\t{atr}")
    finally:
        lib.SCardReleaseContext(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
