// The pages' sign-in form: a person's login and password (a session; at first sign-in the
// person chooses a password of their own), or a program's API token pasted in. Either way the
// page then holds one bearer secret, in this tab's sessionStorage only, and sends it on every
// request as before. Refusals are the server's own words (in the page's language) and codes.

import * as Cov from './common.js';
import { $ } from './common.js';

const SIGN_IN = `mutation PageSignIn($input: SignInInput!) {
  signIn(input: $input) { session { token } userErrors { field message messageZh code } }
}`;

function problem(text) {
  const line = $('token-problem');
  delete line.dataset.t;
  line.textContent = text;
}

/** Wires the form: on submit, a secret (a new session, or the token typed) goes to `use`. */
export function wire(use) {
  $('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    const login = $('login').value.trim();
    if (!login) {
      use($('token').value.trim());
      return;
    }
    const input = { login, password: $('password').value };
    if (!$('new-password-label').hidden) input.newPassword = $('new-password').value;
    let response;
    try {
      response = await Cov.gql(SIGN_IN, { input });
    } catch (err) {
      problem(Cov.t('errNetwork'));
      return;
    }
    const payload = response.data && response.data.signIn;
    if (!payload) {
      problem(Cov.describeErrors(response.errors));
      return;
    }
    if (payload.session) {
      for (const id of ['password', 'new-password', 'token']) $(id).value = '';
      $('new-password-label').hidden = true;
      use(payload.session.token);
      return;
    }
    // A one-time password: the person chooses their own, and signs in with both.
    if (payload.userErrors.some((e) => e.code === 'PASSWORD_CHANGE_REQUIRED')) {
      $('new-password-label').hidden = false;
      $('new-password').focus();
    }
    problem(payload.userErrors.map((e) => `${Cov.refusalText(e)} (${e.code})`).join('; '));
  });
}

/**
 * A signed-in page's first read with `secret`: its `start` query (which asks for the viewer and
 * a first page of cities), then every further page of cities by `moreCities`. Resolves to the
 * first answer and all the cities (null without a viewer); rejects as `Cov.gql` does.
 */
export async function firstRead(start, moreCities, secret) {
  const response = await Cov.gql(start, { first: Cov.PAGE }, secret);
  if (!(response.data && response.data.viewer)) return { response, cities: null };
  const cities = await Cov.allNodes(
    response.data.cities,
    (after) => Cov.gql(moreCities, { first: Cov.PAGE, after }, secret),
    (more) => more.cities,
  );
  return { response, cities };
}

/** The form's fields, hidden once signed in and shown again after. */
export function showForm(yes) {
  for (const id of ['login-label', 'password-label', 'token-label', 'sign-in']) $(id).hidden = !yes;
  if (!yes) $('new-password-label').hidden = true;
}

/** Ends the session on the server (an API token is only forgotten by the page). */
export async function signOut(secret) {
  if (!secret) return;
  try {
    await Cov.gql('mutation PageSignOut { signOut { done } }', {}, secret);
  } catch (err) {
    // The page forgets the secret anyway.
  }
}
