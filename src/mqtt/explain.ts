/**
 * mqtt.js, TLS and socket failures in operator words. This is the one place that classifies
 * them: by Node/OpenSSL error code, by MQTT reason code, or (for mqtt.js' plain errors) by
 * message. The raw message is never passed on, so nothing from a certificate or a key can
 * leak through it.
 */

export interface Explained {
  readonly code: string;
  readonly message: string;
}

const REASONS: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x8f: 'topic filter invalid',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x93: 'receive maximum exceeded',
  0x94: 'topic alias invalid',
  0x95: 'packet too large',
  0x96: 'message rate too high',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
  0x9a: 'retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9e: 'shared subscriptions not supported',
  0x9f: 'connection rate exceeded',
  0xa0: 'maximum connect time',
  0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
};

/** MQTT 3.1.1 CONNACK return codes. */
const V4_CONNACK: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

export function reasonText(code: number): string {
  return REASONS[code] ?? `reason code ${code}`;
}

/** What the explanation may use about the connection attempt. */
export interface ExplainContext {
  readonly host: string;
  readonly port: number;
  readonly servername: string | undefined;
  readonly protocolVersion: 4 | 5;
  /** A client certificate is configured (MQTT_CERT_FILE); a refused one then means "rejected", not "required". */
  readonly clientCert?: boolean;
  /** The process runs in a container, where 127.0.0.1 is the container itself. */
  readonly inContainer?: boolean;
  /** TLS is used, and whether its handshake had completed when the connection ended. */
  readonly tls?: { readonly handshakeDone: boolean };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0']);

/** In a container, a loopback broker address is the container itself: say how to reach the host. */
function loopbackHint(context: ExplainContext): string {
  if (context.inContainer !== true || !(LOOPBACK.has(context.host) || context.host.startsWith('127.')))
    return '';
  return (
    `; the bridge runs in a container, where ${context.host} is the container itself, not the host: ` +
    "use the broker's service name (compose), host.docker.internal (docker run --add-host=host.docker.internal:host-gateway) or the host's address"
  );
}

const CLIENT_CERT_REFUSALS = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
]);

const REQUIRED: Explained = {
  code: 'CLIENT_CERT_REQUIRED',
  message: 'the broker requires a client certificate; set MQTT_CERT_FILE and MQTT_KEY_FILE',
};

/**
 * A connection that ended before the broker's CONNACK without any error or refusal code: the
 * broker (or something in front of it) closed it silently. The likely causes depend on the
 * configuration, so all that apply are named.
 */
export function explainSilentClose(context: ExplainContext): Explained {
  const where = `${context.host}:${context.port}`;
  const causes: string[] = [];
  if (context.protocolVersion === 5)
    causes.push('it may not support MQTT 5: set MQTT_PROTOCOL_VERSION=4 or auto');
  if (context.tls !== undefined) {
    if (context.clientCert === true)
      causes.push(
        'it may have rejected our client certificate without saying so (is it issued by a CA the broker trusts?)',
      );
    else if (!context.tls.handshakeDone)
      causes.push('it may require a client certificate (set MQTT_CERT_FILE and MQTT_KEY_FILE)');
  }
  causes.push(
    'it may refuse this client id, user name or connection without a reason code (see the broker log)',
  );
  return {
    code: 'CLOSED_BEFORE_CONNACK',
    message: `the broker at ${where} closed the connection ${context.tls !== undefined && !context.tls.handshakeDone ? 'during the TLS handshake' : 'without answering our CONNECT'}: ${causes.join('; or ')}`,
  };
}

/**
 * OpenSSL 3.2 and later (Node 24) name the SSLv3 alerts ERR_SSL_SSL/TLS_ALERT_*, OpenSSL 3.0
 * (Node 20, 22) ERR_SSL_SSLV3_ALERT_*: one name for both.
 */
export function alertCode(code: string): string {
  return code.startsWith('ERR_SSL_SSL/TLS_ALERT_') ? `ERR_SSL_SSLV3_ALERT_${code.slice(22)}` : code;
}

export function explainConnectionError(error: unknown, context: ExplainContext): Explained {
  const code = alertCode(
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '',
  );
  const numeric =
    typeof (error as { code?: unknown })?.code === 'number' ? (error as { code: number }).code : undefined;
  const message = error instanceof Error ? error.message : '';
  const where = `${context.host}:${context.port}`;
  if (context.clientCert === false && CLIENT_CERT_REFUSALS.has(code)) return REQUIRED;

  switch (code) {
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
      return {
        code: 'BROKER_CERT_UNTRUSTED',
        message: `broker certificate not trusted (${code}): it is not signed by the CA in MQTT_CA_FILE; check that file`,
      };
    case 'CERT_HAS_EXPIRED':
      return {
        code: 'BROKER_CERT_EXPIRED',
        message: 'broker certificate has expired; the broker operator must renew it',
      };
    case 'CERT_NOT_YET_VALID':
      return {
        code: 'BROKER_CERT_NOT_YET_VALID',
        message: 'broker certificate is not valid yet; check the clocks of both machines',
      };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return {
        code: 'HOSTNAME_MISMATCH',
        message: `hostname mismatch: the broker certificate is not valid for '${context.servername ?? context.host}'; connect by a name in the certificate or set MQTT_SERVERNAME`,
      };
    case 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED':
      return REQUIRED;
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
      return {
        code: 'CLIENT_CERT_REJECTED',
        message:
          'the broker rejected our client certificate: unknown CA (it was not issued by a CA the broker trusts)',
      };
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED':
      return { code: 'CLIENT_CERT_REJECTED', message: 'the broker rejected our client certificate: expired' };
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED':
      return { code: 'CLIENT_CERT_REJECTED', message: 'the broker rejected our client certificate: revoked' };
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
    case 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN':
    case 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE':
    case 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED':
      return {
        code: 'CLIENT_CERT_REJECTED',
        message: 'the broker rejected our client certificate (bad certificate)',
      };
    case 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE':
      return {
        code: 'TLS_HANDSHAKE_FAILED',
        message:
          'TLS handshake failed: the broker refused the handshake (client certificate missing or not accepted, or no common cipher)',
      };
    case 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION':
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_NO_PROTOCOLS_AVAILABLE':
      return {
        code: 'TLS_VERSION',
        message: 'TLS version not accepted: the broker and the bridge share no TLS version (minimum TLS 1.2)',
      };
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return {
        code: 'NOT_TLS',
        message: `the broker at ${where} did not answer with TLS; is this a plain mqtt:// port? use the broker's TLS port`,
      };
    case 'ECONNREFUSED':
      return {
        code: 'CONNECTION_REFUSED',
        message: `connection refused by ${where}: the broker is not running or not listening on that port${loopbackHint(context)}`,
      };
    case 'ECONNRESET':
    case 'EPIPE':
      if (context.tls !== undefined && !context.tls.handshakeDone) {
        return {
          code: 'CONNECTION_RESET',
          message: `connection reset by ${where} during the TLS handshake: ${context.clientCert === true ? 'the broker may have rejected our client certificate without saying so (is it issued by a CA the broker trusts?), or this is not a TLS port' : 'the broker may require a client certificate (MQTT_CERT_FILE and MQTT_KEY_FILE), or this is not a TLS port'}`,
        };
      }
      return {
        code: 'CONNECTION_RESET',
        message: `connection reset by ${where} (broker restarted, or plain mqtt:// used against a TLS port)`,
      };
    case 'ETIMEDOUT':
      return { code: 'CONNECT_TIMEOUT', message: `connection to ${where} timed out` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code: 'DNS_FAILED', message: `cannot resolve the broker host '${context.host}'` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { code: 'UNREACHABLE', message: `no route to ${where}` };
    default:
      break;
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.startsWith('ERR_OSSL')) {
    return { code: 'TLS_ERROR', message: `TLS error (${code})` };
  }
  if (numeric !== undefined) {
    if (context.protocolVersion === 5 && (numeric === 1 || numeric === 0x84)) {
      // A 3.1.1-only broker answers an MQTT 5 CONNECT with its return code 1.
      return {
        code: 'PROTOCOL_VERSION',
        message:
          'the broker does not accept MQTT 5 (unacceptable protocol version); set MQTT_PROTOCOL_VERSION=4 or auto',
      };
    }
    if (context.protocolVersion === 4 && numeric < 0x80) {
      return {
        code: 'CONNECT_REFUSED',
        message: `the broker refused the connection: ${V4_CONNACK[numeric] ?? `return code ${numeric}`}`,
      };
    }
    if (numeric === 0x86 || numeric === 0x87 || numeric === 0x8a) {
      return {
        code: 'CONNECT_NOT_AUTHORIZED',
        message: `the broker refused the connection: ${reasonText(numeric)} (${numeric}); check the client certificate, user name and the broker's access rules`,
      };
    }
    return {
      code: 'CONNECT_REFUSED',
      message: `the broker refused the connection: ${reasonText(numeric)} (${numeric})`,
    };
  }
  if (message === 'connack timeout') {
    return { code: 'CONNECT_TIMEOUT', message: `no CONNACK from ${where} within the connect timeout` };
  }
  if (message.includes('Keepalive timeout')) {
    return { code: 'KEEPALIVE_TIMEOUT', message: 'the broker stopped answering (keepalive timeout)' };
  }
  return { code: 'CONNECTION_ERROR', message: `connection error${code === '' ? '' : ` (${code})`}` };
}
