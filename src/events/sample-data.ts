/**
 * Pools of realistic values for samples. Domains are the reserved example.* names and
 * IP addresses the documentation ranges (RFC 2606, RFC 5737), so no sample points at
 * anybody real.
 */

export const FIRST_NAMES = [
  'alice',
  'bob',
  'carmen',
  'dmitri',
  'emma',
  'farah',
  'george',
  'hana',
  'ivan',
  'julia',
  'kenji',
  'lena',
  'marco',
  'nina',
  'omar',
  'priya',
];
export const LAST_NAMES = [
  'smith',
  'garcia',
  'mueller',
  'nguyen',
  'okafor',
  'rossi',
  'tanaka',
  'kowalski',
  'dubois',
  'silva',
  'johansson',
  'patel',
];
export const RECIPIENT_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'customers.example.org'];

export interface Sender {
  address: string;
  domain: string;
  organization: string;
}

export const SENDERS: readonly Sender[] = [
  { address: 'orders@shop.example.com', domain: 'shop.example.com', organization: 'Example Shop' },
  { address: 'no-reply@app.example.com', domain: 'app.example.com', organization: 'Example App' },
  { address: 'billing@accounts.example.net', domain: 'accounts.example.net', organization: 'Example Billing' },
  { address: 'hello@news.example.org', domain: 'news.example.org', organization: 'Example News' },
];

/** Kinds of transactional mail: tag, subject template (`{n}` becomes a number) and a link path. */
export const MAIL_KINDS: ReadonlyArray<{ tag: string; subject: string; link: string }> = [
  { tag: 'order-confirmation', subject: 'Order Confirmation #{n}', link: '/track-order/{n}' },
  { tag: 'password-reset', subject: 'Reset your password', link: '/reset-password?token={n}' },
  { tag: 'invoice', subject: 'Your invoice INV-2026-{n}', link: '/invoices/{n}' },
  { tag: 'welcome', subject: 'Welcome aboard!', link: '/onboarding/step/1?ref={n}' },
  { tag: 'shipping-update', subject: 'Your order #{n} has shipped', link: '/shipments/{n}' },
  { tag: 'verify-email', subject: 'Confirm your email address', link: '/verify?code={n}' },
  { tag: 'order-confirmation-de', subject: 'Ihre Bestellbestätigung #{n}', link: '/de/bestellungen/{n}' },
];

export const MX_HOSTS = ['mx1.example.com', 'mx2.example.org', 'aspmx.l.example.net', 'mail-in.example.com'];

/** Postal's SoftFail replies: greylisting, rate limits, full mailboxes. */
export const SOFT_FAIL_REPLIES = [
  '451 4.7.1 Greylisting in action, please come back later',
  '421 4.7.0 Temporary System Problem. Try again later (10)',
  '452 4.2.2 The email account that you tried to reach is over quota',
  '450 4.2.1 The user you are trying to contact is receiving mail too quickly',
];

/** Postal's HardFail replies; `%s` is the recipient. */
export const HARD_FAIL_REPLIES = [
  '550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table',
  "550 5.1.1 The email account that you tried to reach does not exist",
  '554 5.7.1 <%s>: Relay access denied',
  '552 5.2.2 <%s>: Mailbox full, message rejected',
];

export const HOLD_REASONS = [
  'Message held because the recipient is on the suppression list',
  'Message held for manual review: spam score above the server threshold',
  'Message held because the server is in development mode',
];

/** Who signs a bounce: the recipient domain's mail system (`postmaster@<recipient domain>`). */
export const BOUNCE_SENDER_NAMES = ['postmaster', 'MAILER-DAEMON', 'mailer-daemon'];
export const BOUNCE_SUBJECTS = [
  'Undelivered Mail Returned to Sender',
  'Delivery Status Notification (Failure)',
  'Mail delivery failed: returning message to sender',
];

export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
];

/** Documentation address ranges (RFC 5737). */
export const IP_PREFIXES = ['192.0.2.', '198.51.100.', '203.0.113.'];

export const SERVER_NAMES = ['Transactional', 'Marketing', 'Notifications', 'Production Mail'];

export const SEND_LIMITS = [1000, 5000, 10000, 25000, 50000, 100000];

/** One failing DNS check as Postal reports it; `%d` is the domain, `%s` a selector. */
export const DNS_FAILURES: ReadonlyArray<{ check: 'spf' | 'dkim' | 'mx' | 'return_path'; status: 'Missing' | 'Invalid'; error: string }> = [
  { check: 'spf', status: 'Missing', error: 'No SPF record exists for this domain' },
  { check: 'spf', status: 'Invalid', error: "An SPF record exists but it doesn't include include:spf.frontengine.example.net" },
  { check: 'dkim', status: 'Missing', error: 'No TXT records were returned for %s._domainkey.%d' },
  { check: 'dkim', status: 'Invalid', error: "The DKIM record at %s._domainkey.%d does not match the record we've provided" },
  { check: 'mx', status: 'Missing', error: 'There are no MX records for %d' },
  { check: 'mx', status: 'Invalid', error: "MX records for %d are present but don't point to mx.frontengine.example.net" },
  { check: 'return_path', status: 'Missing', error: 'There is no return path record at psrp.%d' },
  {
    check: 'return_path',
    status: 'Invalid',
    error: "There is a CNAME record at psrp.%d but it doesn't point to rp.frontengine.example.net",
  },
];
