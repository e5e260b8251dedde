#!/usr/bin/env python3
"""Writes the bad-input corpus (test/corpus/<kind>/<case>). Run once; the files are committed.

Real keys and certificates here are made by openssl for this corpus only (EC P-256, a throwaway CA); they belong to
no system. Each file is one hostile or broken input; test/corpus.test.ts says where it is put and what must happen.
"""
import base64, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix='kcr-corpus-')

def ossl(*args, input=None):
    return subprocess.run(['openssl', *args], check=True, capture_output=True, input=input).stdout

def put(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data if isinstance(data, bytes) else data.encode())

def t(name):
    return os.path.join(tmp, name)

def pem(label, der, headers=''):
    b64 = base64.b64encode(der).decode()
    body = '\n'.join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return f'-----BEGIN {label}-----\n{headers}{body}\n-----END {label}-----\n'

# A throwaway CA and a leaf it signs.
ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', t('ca.key'))
ossl('req', '-x509', '-new', '-key', t('ca.key'), '-subj', '/CN=corpus-ca', '-days', '3650', '-out', t('ca.crt'))
ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', t('leaf.key'))
ossl('req', '-new', '-key', t('leaf.key'), '-subj', '/CN=kube-apiserver', '-out', t('leaf.csr'))
ossl('x509', '-req', '-in', t('leaf.csr'), '-CA', t('ca.crt'), '-CAkey', t('ca.key'), '-CAcreateserial', '-days', '365', '-out', t('leaf.crt'))
leaf_crt = open(t('leaf.crt')).read()
leaf_key = open(t('leaf.key')).read()
cert_der = ossl('x509', '-in', t('leaf.crt'), '-outform', 'DER')

# PEM certificate files (put at pki/apiserver.crt)
put('pem/empty.crt', b'')
put('pem/not-pem.crt', 'this is not a certificate\n')
put('pem/truncated.crt', leaf_crt[: len(leaf_crt) // 2])
put('pem/bad-base64.crt', '-----BEGIN CERTIFICATE-----\n!!!!not base64 at all!!!!\n-----END CERTIFICATE-----\n')
put('pem/private-key-instead.crt', leaf_key)
put('pem/csr-instead.crt', open(t('leaf.csr')).read())
put('pem/mismatched-end.crt', leaf_crt.replace('END CERTIFICATE', 'END PRIVATE KEY'))
put('pem/nul-bytes.crt', b'\0' * 2048)
put('pem/random-der.crt', pem('CERTIFICATE', bytes((i * 37 + 11) % 256 for i in range(600))))
put('pem/foreign-ca.crt', leaf_crt)
put('pem/utf16.crt', leaf_crt.encode('utf-16'))
put('pem/headers-and-garbage.crt', pem('CERTIFICATE', b'\x30\x03\x02\x01\x01', 'X-One: 1\nX-Two: 2\n\n'))

# DER inside PEM, or raw DER (put at pki/apiserver.crt)
put('der/raw-der.crt', cert_der)
put('der/truncated.crt', pem('CERTIFICATE', cert_der[:100]))
put('der/length-overflow.crt', pem('CERTIFICATE', b'\x30\x84\xff\xff\xff\xff' + cert_der[4:60]))
put('der/deep-nesting.crt', pem('CERTIFICATE', b'\x30\x80' * 5000 + b'\x00\x00' * 5000))
put('der/trailing-garbage.crt', pem('CERTIFICATE', cert_der + b'\xde\xad\xbe\xef' * 8))
put('der/wrong-tag.crt', pem('CERTIFICATE', b'\x02' + cert_der[1:]))
put('der/indefinite-length.crt', pem('CERTIFICATE', b'\x30\x80' + cert_der[4:] + b'\x00\x00'))

# Private-key files (put at pki/apiserver.key)
put('key/empty.key', b'')
put('key/encrypted-legacy.key', ossl('ec', '-in', t('leaf.key'), '-aes128', '-passout', 'pass:corpus'))
put('key/encrypted-pkcs8.key', ossl('pkcs8', '-topk8', '-in', t('leaf.key'), '-v2', 'aes-128-cbc', '-passout', 'pass:corpus'))
put('key/public-key.key', ossl('pkey', '-in', t('leaf.key'), '-pubout'))
put('key/certificate-instead.key', leaf_crt)
put('key/truncated.key', leaf_key[: len(leaf_key) // 2])
put('key/random-der.key', pem('EC PRIVATE KEY', bytes((i * 53 + 7) % 256 for i in range(121))))
put('key/foreign.key', leaf_key)

# kubeconfigs (put at admin.conf)
b64 = lambda s: base64.b64encode(s.encode() if isinstance(s, str) else s).decode()
def kubeconfig(user_block, extra=''):
    return f'''apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: {b64(open(t('ca.crt')).read())}
    server: https://127.0.0.1:6443
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: kubernetes-admin
  name: kubernetes-admin@kubernetes
current-context: kubernetes-admin@kubernetes
preferences: {{}}
users:
- name: kubernetes-admin
  user:
{user_block}{extra}'''
put('kubeconfig/empty.conf', b'')
put('kubeconfig/not-yaml.conf', 'apiVersion: v1\nkind: Config\nusers: [\n  {name: broken\n')
put('kubeconfig/list.conf', '- just\n- a\n- list\n')
put('kubeconfig/no-users.conf', 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n')
lines = ['x-bomb:', '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
prev = 'a'
for n in 'bcdefghij':
    lines.append(f'  {n}: &{n} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]')
    prev = n
put('kubeconfig/alias-bomb.conf', kubeconfig(f'    client-certificate-data: {b64(leaf_crt)}\n    client-key-data: {b64(leaf_key)}\n', '\n'.join(lines) + '\nx-more: *j\n'))
put('kubeconfig/cert-data-not-base64.conf', kubeconfig('    client-certificate-data: "%%% not base64 %%%"\n    client-key-data: "%%%"\n'))
put('kubeconfig/cert-data-not-pem.conf', kubeconfig(f'    client-certificate-data: {b64("hello")}\n    client-key-data: {b64("world")}\n'))
put('kubeconfig/encrypted-legacy-key.conf', kubeconfig(f'    client-certificate-data: {b64(leaf_crt)}\n    client-key-data: {b64(open(os.path.join(HERE, "key/encrypted-legacy.key")).read())}\n'))
put('kubeconfig/path-escape.conf', kubeconfig('    client-certificate: ../../../../../../../../corpus-outside.crt\n    client-key: ../../../../../../../../corpus-outside.key\n'))
put('kubeconfig/two-documents.conf', 'apiVersion: v1\nkind: Config\n---\napiVersion: v1\nkind: Config\n')
put('kubeconfig/tab-indented.conf', 'apiVersion: v1\nusers:\n\t- name: x\n')

# config files (put at etc/kube-cert-renewer/config.yaml; status exits 2)
H = 'apiVersion: kube-cert-renewer.io/v1alpha1\nkind: RenewerConfiguration\n'
put('config/not-yaml.yaml', H + 'renewBefore: [30d\n')
put('config/unknown-key.yaml', H + 'renewBefor: 30d\n')
put('config/bad-duration.yaml', H + 'validity: thirty days\n')
put('config/overflow-duration.yaml', H + 'validity: 999999999999d\n')
put('config/alias-bomb.yaml', H + '\n'.join(lines) + '\n')
put('config/list.yaml', '- renewBefore: 30d\n')
put('config/wrong-api-version.yaml', 'apiVersion: v2\nkind: RenewerConfiguration\n')
put('config/relative-state-path.yaml', H + 'paths:\n  state: var/lib/x\n')
put('config/keep-zero.yaml', H + 'backups:\n  keep: 0\n')

# state.json (put at var/lib/kube-cert-renewer/state.json; status warns, exits 0)
put('state/empty.json', b'')
put('state/not-json.json', '{"apiVersion": "kube-cert-renewer.io/v1alpha1", "kind": "RenewerState", "entries": {')
put('state/array.json', '[1, 2, 3]\n')
put('state/wrong-kind.json', '{"kind": "SomethingElse", "entries": {}}\n')
put('state/nul-bytes.json', b'\0' * 512)
put('state/entries-not-object.json', '{"kind": "RenewerState", "entries": "all of them"}\n')

# journals (put at var/lib/kube-cert-renewer/backups/20261122T215356.123Z-1a2b3c/run.json; rollback exits 1)
put('journal/empty.json', b'')
put('journal/not-json.json', '{"kind": "RenewalRun", "id": "20261122T215356.123Z-1a2b3c", "entries": [')
put('journal/wrong-kind.json', '{"kind": "RenewerState", "id": "20261122T215356.123Z-1a2b3c", "entries": []}\n')
put('journal/other-run-id.json', '{"kind": "RenewalRun", "id": "../../../../etc", "phase": "committed", "entries": []}\n')
put('journal/entries-not-list.json', '{"kind": "RenewalRun", "id": "20261122T215356.123Z-1a2b3c", "phase": "committed", "entries": "x"}\n')

# lock files (put at var/lib/kube-cert-renewer/lock, dated a minute ago; run takes them over, exits 0)
put('lock/empty.lock', b'')
put('lock/half-written.lock', '{"pid":12')
put('lock/garbage.lock', b'\xff\xfe\x00garbage')
put('lock/not-a-holder.lock', '{"hello": "world"}\n')

# run ids given to `rollback` (the file holds the argument; exit 2, nothing read or written)
put('runid/parent-traversal.txt', '../../../../x')
put('runid/absolute.txt', '/etc/kubernetes')
put('runid/dot-dot.txt', '..')
put('runid/valid-then-traversal.txt', '20261122T215356.123Z-1a2b3c/../../../../x')
put('runid/almost-valid.txt', '20261122T215356.123Z-1a2b3')
put('runid/newline.txt', '20261122T215356.123Z-1a2b3c\n../x')

# static-pod manifests (put at manifests/kube-apiserver.yaml; `renew apiserver` rolls back, exits 1)
put('manifest/two-documents.yaml', 'apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\n')
put('manifest/not-yaml.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: [\n')
put('manifest/list.yaml', '- a\n- b\n')
put('manifest/alias-bomb.yaml', 'apiVersion: v1\nkind: Pod\n' + '\n'.join(lines) + '\n')
print('corpus written under', HERE)
