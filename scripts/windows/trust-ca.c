/* trust-ca.exe CA.pem: adds a CA certificate to the machine's Trusted Root store, what
 * `certutil -addstore Root CA.pem` does on Windows (Wine 8's certutil cannot). Used by the Wine
 * smoke suite (scripts/windows/wine-smoke.sh) to trust the private CA of its HTTPS server. */
#include <windows.h>
#include <wincrypt.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    static char pem[65536];
    static BYTE der[65536];
    DWORD der_len = sizeof(der);
    size_t n;
    FILE *f;
    HCERTSTORE store;

    if (argc != 2) {
        fprintf(stderr, "usage: trust-ca.exe CA.pem\n");
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "trust-ca: cannot open %s\n", argv[1]);
        return 1;
    }
    n = fread(pem, 1, sizeof(pem) - 1, f);
    fclose(f);
    pem[n] = 0;
    if (!CryptStringToBinaryA(pem, 0, CRYPT_STRING_BASE64HEADER, der, &der_len, NULL, NULL)) {
        fprintf(stderr, "trust-ca: %s is not a PEM certificate (error %lu)\n", argv[1], GetLastError());
        return 1;
    }
    store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"ROOT");
    if (!store) {
        fprintf(stderr, "trust-ca: cannot open the ROOT store (error %lu)\n", GetLastError());
        return 1;
    }
    if (!CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, der_len,
                                          CERT_STORE_ADD_REPLACE_EXISTING, NULL)) {
        fprintf(stderr, "trust-ca: cannot add the certificate (error %lu)\n", GetLastError());
        CertCloseStore(store, 0);
        return 1;
    }
    CertCloseStore(store, 0);
    printf("added %s to the machine's Trusted Root store\n", argv[1]);
    return 0;
}
