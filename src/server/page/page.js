// The gateway's page: what the Moodle block "My external private files" did, for a user signed in
// with a bearer token. Plain DOM, no framework; the page's Content-Security-Policy allows no inline code.

const TOKEN_KEY = 'moodle-gateway:token';

const SITES_QUERY = `query PageSites {
  externalSites {
    id name url
    info { __typename ... on SiteFailure { code message hint siteUrl } }
  }
}`;

const ZIP_QUERY = `query PageZip($site: ID!, $username: String!) {
  privateFilesZip(site: $site, username: $username) {
    __typename
    ... on PrivateFilesZip { filename downloadUrl }
    ... on SiteFailure { code message hint siteUrl }
  }
}`;

const BUNDLE_QUERY = `query PageBundle($username: String!) {
  privateFilesBundle(username: $username) { filename downloadUrl sites }
}`;

const VIEWER_QUERY = 'query PageViewer { viewer { role tenant username actsForOthers } }';

const byId = (id) => document.getElementById(id);

class SignInError extends Error {}

let viewer = null;

async function graphql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new Error('The gateway cannot be reached. Check your connection and try again.');
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401) {
    throw new SignInError(`This token was not accepted: ${body?.errors?.[0]?.message ?? 'it is not valid'}.`);
  }
  if (!body) throw new Error(`The gateway answered with an error (${response.status}). Try again later.`);
  if (body.errors?.length) throw new Error(body.errors[0].message);
  return body.data;
}

/** A link to a site, only when its address is a web address. */
function siteLink(url, text) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return document.createTextNode(text);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return document.createTextNode(text);
  const link = document.createElement('a');
  link.href = parsed.href;
  link.textContent = text;
  return link;
}

function paragraph(className, ...children) {
  const element = document.createElement('p');
  element.className = className;
  element.append(...children);
  return element;
}

/** Progress while a site prepares a zip: it has no percentage to tell, so the bar is indeterminate. */
function showProgress(status, text) {
  const started = Date.now();
  const label = document.createElement('span');
  const progress = document.createElement('progress');
  progress.setAttribute('aria-label', text);
  const elapsed = document.createElement('span');
  elapsed.className = 'elapsed';
  label.textContent = text;
  status.replaceChildren(paragraph('working', progress, ' ', label, ' ', elapsed));
  const timer = setInterval(() => {
    elapsed.textContent = `(${Math.round((Date.now() - started) / 1000)} s)`;
  }, 1000);
  return () => clearInterval(timer);
}

function showFailure(status, failure, name) {
  status.replaceChildren(
    paragraph('error', failure.hint ?? failure.message),
    paragraph('detail', `${name} said: ${failure.message}`),
    paragraph('detail', siteLink(failure.siteUrl, `Go to ${name}`)),
  );
}

function showError(status, error) {
  status.replaceChildren(paragraph('error', error.message));
  if (error instanceof SignInError) signOut(error.message);
}

/** Whose files: the signed-in user's own, or the username given by a caller who acts for others. */
function chosenUsername() {
  if (viewer?.username && !viewer.actsForOthers) return viewer.username;
  const input = byId('username');
  const value = input.value;
  if (value === '') {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return null;
  }
  input.removeAttribute('aria-invalid');
  return value;
}

/** Starts the browser's download; a failure replaces this page with the gateway's error page. */
function download(url) {
  window.location.assign(url);
}

async function retrieve(site, button, status) {
  const username = chosenUsername();
  if (username === null) {
    status.replaceChildren(paragraph('error', 'Give the username whose files you want first.'));
    return;
  }
  button.disabled = true;
  const stop = showProgress(status, `Preparing the zip of your files on ${site.name}…`);
  try {
    const { privateFilesZip: zip } = await graphql(ZIP_QUERY, { site: site.id, username });
    stop();
    if (zip.__typename === 'PrivateFilesZip') {
      status.replaceChildren(
        paragraph(
          'ready',
          'Ready. Your file: ',
          Object.assign(document.createElement('strong'), { textContent: zip.filename }),
        ),
        paragraph('detail', 'The download starts now; your browser saves it under this name.'),
      );
      download(zip.downloadUrl);
    } else {
      showFailure(status, zip, site.name);
    }
  } catch (error) {
    stop();
    showError(status, error);
  } finally {
    button.disabled = false;
  }
}

async function downloadEverything(button) {
  const status = byId('everything-status');
  const username = chosenUsername();
  if (username === null) {
    status.replaceChildren(paragraph('error', 'Give the username whose files you want first.'));
    return;
  }
  button.disabled = true;
  const stop = showProgress(status, 'Preparing one zip of every platform…');
  try {
    const { privateFilesBundle: bundle } = await graphql(BUNDLE_QUERY, { username });
    stop();
    status.replaceChildren(
      paragraph(
        'ready',
        'Your file: ',
        Object.assign(document.createElement('strong'), { textContent: bundle.filename }),
      ),
      paragraph(
        'detail',
        `It holds the zips of ${bundle.sites.length} platform(s), added as each one is ready: the download may take a while.`,
      ),
    );
    download(bundle.downloadUrl);
  } catch (error) {
    stop();
    showError(status, error);
  } finally {
    button.disabled = false;
  }
}

function siteRow(site) {
  const row = document.createElement('li');
  row.className = 'site';
  const name = document.createElement('span');
  name.className = 'site-name';
  name.id = `site-${site.id}`;
  name.textContent = site.name;
  const status = document.createElement('div');
  status.className = 'status';
  status.id = `status-${site.id}`;
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');

  if (site.info.__typename === 'SiteFailure') {
    // As the block does: a site that fails is a link to the site instead of a button.
    row.classList.add('failing');
    const action = siteLink(site.info.siteUrl, `Go to ${site.name}`);
    action.className = 'site-link';
    row.append(name, action, paragraph('detail', site.info.hint ?? site.info.message), status);
    return row;
  }
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Retrieve files';
  button.setAttribute('aria-describedby', `${name.id} ${status.id}`);
  button.addEventListener('click', () => retrieve(site, button, status));
  row.append(name, button, status);
  return row;
}

async function loadSites() {
  const list = byId('sites');
  const status = byId('sites-status');
  status.textContent = 'Asking your platforms…';
  list.replaceChildren();
  try {
    const { externalSites: sites } = await graphql(SITES_QUERY);
    list.replaceChildren(...sites.map(siteRow));
    status.textContent = sites.length === 0 ? 'No platform is set up for you yet.' : '';
    byId('download-everything').disabled = sites.length === 0;
  } catch (error) {
    showError(status, error);
  }
}

async function start() {
  const { viewer: who } = await graphql(VIEWER_QUERY);
  viewer = who;
  byId('signed-in-as').textContent = who.username
    ? `Signed in as ${who.username}.`
    : `Signed in with an ${who.role === 'ADMIN' || who.role === 'TENANT_ADMIN' ? 'administrator' : 'application'} key.`;
  byId('for-user').hidden = !who.actsForOthers;
  if (who.actsForOthers && who.username) byId('username').value = who.username;
  byId('sign-in').hidden = true;
  byId('files').hidden = false;
  byId('files-title').focus();
  await loadSites();
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  viewer = null;
  byId('files').hidden = true;
  byId('sign-in').hidden = false;
  const error = byId('sign-in-error');
  error.textContent = message;
  error.hidden = message === '';
  byId('token').value = '';
  byId('token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = byId('token').value.trim();
  const error = byId('sign-in-error');
  if (token === '') {
    error.textContent = 'Paste your token first.';
    error.hidden = false;
    byId('token').focus();
    return;
  }
  error.hidden = true;
  sessionStorage.setItem(TOKEN_KEY, token);
  try {
    await start();
  } catch (failure) {
    signOut(failure.message);
  }
}

byId('sign-in-form').addEventListener('submit', signIn);
byId('sign-out').addEventListener('click', () => signOut());
byId('download-everything').addEventListener('click', (event) => downloadEverything(event.currentTarget));
byId('files-title').tabIndex = -1;

if (sessionStorage.getItem(TOKEN_KEY)) {
  start().catch((failure) => signOut(failure.message));
} else {
  byId('token').focus();
}
