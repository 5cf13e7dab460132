import { Router } from 'express';
import { z } from 'zod';
import type { RouteDeclarer } from '../auth';
import { parseOr400 } from '../problem';

/** The token of an emailed link, as the link carries it in its query. */
const linkQuerySchema = z.strictObject({ token: z.string().regex(/^cp_lt_[A-Za-z0-9_-]{43}$/, { message: 'is not the token of a link' }) });

interface LinkPage {
  path: string;
  title: string;
  /** The API route the page posts the token (and the password, when asked) to. */
  action: string;
  button: string;
  /** What the password field is for, when the page asks for one. */
  password?: string;
  done: string;
}

const PAGES: LinkPage[] = [
  { path: '/verify-email', title: 'Verify your email', action: '/api/v1/auth/verify-email', button: 'Verify my email', done: 'Your email is verified. You can close this page.' },
  {
    path: '/reset-password',
    title: 'Choose a new password',
    action: '/api/v1/auth/password-reset/complete',
    button: 'Set my password',
    password: 'New password (at least 12 characters, two kinds of characters)',
    done: 'Your password is set and every session was signed out. Sign in with the new password.',
  },
  {
    path: '/accept-invitation',
    title: 'Join your team',
    action: '/api/v1/invitations/accept',
    button: 'Accept the invitation',
    password: 'Your password (new here: choose one; already have an account: your current one)',
    done: 'You are in. Sign in to start.',
  },
];

/**
 * The page an emailed link opens when no web app is configured (APP_BASE_URL unset): a form that posts the link's
 * token to the API. Opening it spends nothing, so a mail scanner that follows links leaves them working; only the
 * person's click does. The token stays out of other sites' sight: no referrer, no cache, no third-party content.
 */
function render(page: LinkPage, productName: string): string {
  const product = productName.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
  const passwordField = page.password ? `<label>${page.password}<br><input type="password" name="password" required autocomplete="new-password" minlength="12"></label>` : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${page.title} · ${product}</title></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto; line-height: 1.5">
<h1>${page.title}</h1>
<form id="link-form">${passwordField}<p><button type="submit">${page.button}</button></p></form>
<p id="outcome" role="status"></p>
<script>
const form = document.getElementById('link-form');
const outcome = document.getElementById('outcome');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = { token: new URLSearchParams(location.search).get('token') };
  if (form.password) body.password = form.password.value;
  const response = await fetch(${JSON.stringify(page.action)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const answer = response.status === 204 ? {} : await response.json();
  outcome.textContent = response.ok ? ${JSON.stringify(page.done)} : (answer.errors ? answer.errors.map((error) => error.path + ' ' + error.message).join('; ') : answer.detail || answer.title);
  if (response.ok) form.remove();
});
</script>
</body></html>`;
}

export function linkPageRoutes(options: { productName: string; route: RouteDeclarer }): Router {
  const router = Router();
  for (const page of PAGES) {
    options.route(router, {
      method: 'get',
      path: page.path,
      auth: 'public',
      docs: { summary: `The page an emailed link opens: ${page.title.toLowerCase()} (HTML; posts the token to ${page.action})`, tags: ['pages'], query: linkQuerySchema, responses: { 200: { description: 'An HTML page' } } },
      handler: (request, response) => {
        parseOr400(linkQuerySchema, request.query, 'query');
        response
          .set({
            'Cache-Control': 'no-store',
            'Referrer-Policy': 'no-referrer',
            'X-Content-Type-Options': 'nosniff',
            'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'",
          })
          .type('html')
          .send(render(page, options.productName));
      },
    });
  }
  return router;
}
