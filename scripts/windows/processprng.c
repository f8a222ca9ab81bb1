/* bcryptprimitives.dll for Wine 8, which lacks ProcessPrng (Rust's std imports it on Windows
 * 10+). Forwards to RtlGenRandom (advapi32!SystemFunction036), which Wine implements. Built by
 * scripts/windows-check.sh with mingw and put next to the .exe files; Windows itself never needs
 * it. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
