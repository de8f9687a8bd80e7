// The system's OpenSSL (Debian's libssl-dev, OpenSSL 3), for AsyncIOTLS.
//
// OpenSSL spells several calls as function-like macros over `SSL_ctrl`/`BIO_ctrl`, which Swift
// cannot import; each `static inline` below is one of those macros as a function. No logic lives
// here (model: SwiftNIO's CNIOBoringSSLShims).
#ifndef C_OPENSSL_SHIM_H
#define C_OPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static inline long casyncio_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long casyncio_ssl_ctx_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long casyncio_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline long casyncio_ssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

static inline long casyncio_bio_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

static inline int casyncio_bio_reset(BIO *bio) {
    return (int)BIO_reset(bio);
}

static inline long casyncio_bio_set_mem_eof_return(BIO *bio, int value) {
    return BIO_set_mem_eof_return(bio, value);
}

static inline int casyncio_general_names_count(const GENERAL_NAMES *names) {
    return sk_GENERAL_NAME_num(names);
}

static inline const GENERAL_NAME *casyncio_general_names_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}

static inline void casyncio_general_names_free(GENERAL_NAMES *names) {
    GENERAL_NAMES_free(names);
}

/// The options every context gets: no renegotiation (a DoS vector, and gone in TLS 1.3), no
/// compression (CRIME), the server's cipher order.
static const uint64_t casyncio_ssl_default_options =
    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE;

/// `X509_NAME_print_ex`'s flags for RFC 2253 names (`CN=host,O=Org`).
static const unsigned long casyncio_xn_flag_rfc2253 = XN_FLAG_RFC2253;

#endif
