/*
 * bcryptprimitives.dll for wine 8.0, which lacks it (wine 9.0 and Windows 10 or later have it).
 * Rust's standard library (1.78 and later) takes its random numbers from ProcessPrng in this DLL,
 * so without it every Rust program exits with status 53 before main. This DLL exports only
 * ProcessPrng and fills the buffer from RtlGenRandom (SystemFunction036 in advapi32), which
 * wine 8.0 has. It is for CI's private wine prefix only: .ci/windows builds and installs it.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) {
            /* Windows documents that ProcessPrng never fails; here it can only fail loudly. */
            ExitProcess(53);
        }
        data += n;
        length -= n;
    }
    return TRUE;
}
