// node-forge's ASN.1 module on its own: the full 'node-forge' entry point loads ciphers, TLS and a pure-JS RSA
// implementation the agent never uses, and costs ~50 ms of start-up.
declare module 'node-forge/lib/asn1.js' {
  import type forge from 'node-forge';
  const asn1: typeof forge.asn1;
  export = asn1;
}
declare module 'node-forge/lib/util.js' {
  import type forge from 'node-forge';
  const util: typeof forge.util;
  export = util;
}
