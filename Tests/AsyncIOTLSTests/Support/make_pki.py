"""Makes the test suite's certificates in the directory given: a CA, a server certificate for
localhost/127.0.0.1 signed by it, an expired one, a self-signed one, and a client certificate.

Run by the TLS tests at start-up; the keys live in a temporary directory and are never committed.
"""
import datetime
import ipaddress
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)


def name(common):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "swift-asyncio tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def write(stem, key, cert):
    with open(f"{out}/{stem}.key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(f"{out}/{stem}.pem", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def issue(common, issuer_name, issuer_key, *, ca=False, not_before=None, not_after=None,
          sans=(), usage=ExtendedKeyUsageOID.SERVER_AUTH):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(name(common))
               .issuer_name(issuer_name or name(common))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before or now - day)
               .not_valid_after(not_after or now + 30 * day)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return key, cert


localhost = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
ca_key, ca_cert = issue("swift-asyncio test CA", None, None, ca=True, not_after=now + 60 * day)
write("ca", ca_key, ca_cert)
write("server", *issue("localhost", ca_cert.subject, ca_key, sans=localhost))
write("expired", *issue("localhost", ca_cert.subject, ca_key, sans=localhost,
                        not_before=now - 20 * day, not_after=now - 10 * day))
write("selfsigned", *issue("localhost", None, None, sans=localhost))
write("client", *issue("test client", ca_cert.subject, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH))
