// A complete certification review through SailPoint's official TypeScript SDK (npm
// `sailpoint-api-client`, the exact version in tests/sdk/package.json), run with plain node.
//
// The SDK has v3, beta and v2024 clients and no per-API (/certifications/v1) ones; this uses v3.
// Configuration (top-level `Configuration`): { baseurl, clientId, clientSecret, tokenUrl }; its
// constructor POSTs grant_type=client_credentials, client_id, client_secret as
// multipart/form-data to tokenUrl and keeps the token promise (never refreshed). Every v3 call
// goes to baseurl + "/v3" + path with `Authorization: Bearer <token>`; query strings are built
// with URLSearchParams (spaces as `+`). Answers are plain axios responses (JSON not checked
// against the models); any status other than 2xx rejects with an AxiosError.
//
//   CertificationsApi (v3)
//     listIdentityCertifications             GET  /v3/certifications
//     getIdentityCertification               GET  /v3/certifications/{id}
//     listIdentityAccessReviewItems          GET  /v3/certifications/{id}/access-review-items
//     listCertificationReviewers             GET  /v3/certifications/{id}/reviewers
//     getIdentityCertificationItemPermissions GET /v3/certifications/{certificationId}/access-review-items/{itemId}/permissions
//     makeIdentityDecision                   POST /v3/certifications/{id}/decide
//     reassignIdentityCertifications         POST /v3/certifications/{id}/reassign
//     submitReassignCertsAsync               POST /v3/certifications/{id}/reassign-async
//     signOffIdentityCertification           POST /v3/certifications/{id}/sign-off
//     getPendingCertificationTasks           GET  /v3/certification-tasks
//     getCertificationTask                   GET  /v3/certification-tasks/{id}
//   CertificationCampaignsApi (v3)
//     getActiveCampaigns                     GET  /v3/campaigns
//     getCampaign                            GET  /v3/campaigns/{id}
//
// The SDK validates no body client-side, so the 251 decisions, the reassignment without a
// reason and limit=251 all go through the SDK methods themselves.
//
// Environment: as tests/sdk/python/common.py (RECERT_SDK_BASE_URL, RECERT_SDK_{ADMIN,REVIEWER,
// OTHER}_{ID,SECRET}, RECERT_SDK_CERT_ID, RECERT_SDK_REASSIGN_TO, RECERT_SDK_OTHER_CERT_ID),
// plus RECERT_SDK_NODE_DIR: the folder whose node_modules holds the SDK (run.sh sets it; unset,
// the SDK is looked up from this file's folder).

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const nodeDir = process.env.RECERT_SDK_NODE_DIR;
const require = createRequire(nodeDir ? pathToFileURL(`${nodeDir}/package.json`) : import.meta.url);
const { Configuration, CertificationsApi, CertificationCampaignsApi } = require('sailpoint-api-client');
const LABEL = `ts sailpoint-api-client@${require('sailpoint-api-client/package.json').version} /v3`;

const PAGE = 10; // the page size of the paging walk
const MAX = 250; // the largest page, and the most decisions one decide call takes

class Failed extends Error {}

function check(cond, msg) {
  if (!cond) throw new Failed(msg);
}

function describe(e) {
  if (e instanceof Failed) return e.message;
  if (e && e.response) return `HTTP ${e.response.status}: ${JSON.stringify(e.response.data).slice(0, 600)}`;
  return e && e.stack ? e.stack : String(e);
}

async function step(name, fn) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    console.log(`FAIL  [${LABEL}] ${name}: ${describe(e)}`);
    process.exit(1);
  }
  console.log(`PASS  [${LABEL}] ${name}`);
  return result;
}

function env(name) {
  const value = (process.env[name] || '').trim();
  if (!value) {
    console.log(`FAIL  [${LABEL}] environment: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

const hex32 = () => randomBytes(16).toString('hex');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Expects the call to reject with `status` and an ErrorResponseDto whose messages[0].text is
// non-empty; returns that text.
async function expectError(status, call) {
  let res;
  try {
    res = await call();
  } catch (e) {
    if (!e.response) throw e;
    const body = e.response.data;
    check(e.response.status === status, `expected HTTP ${status}, got ${e.response.status}: ${JSON.stringify(body)}`);
    const text = body && body.messages && body.messages[0] && body.messages[0].text;
    check(text, `not an ErrorResponseDto with messages[0].text: ${JSON.stringify(body)}`);
    check(body.trackingId, `no trackingId: ${JSON.stringify(body)}`);
    return text;
  }
  throw new Failed(`expected HTTP ${status}, the call succeeded (${res.status})`);
}

// Every page of a list operation (limit/offset, count=true): [items, X-Total-Count], checking
// that every page announces the same total and that the pages add up to it.
async function walk(call, params, limit = MAX) {
  const items = [];
  let offset = 0;
  let total = null;
  for (;;) {
    const res = await call({ ...params, limit, offset, count: true });
    check(res.status === 200, `status ${res.status}`);
    check(Array.isArray(res.data), `not a list: ${JSON.stringify(res.data).slice(0, 300)}`);
    const header = res.headers['x-total-count'];
    check(header !== undefined, 'no X-Total-Count header with count=true');
    const pageTotal = Number(header);
    check(total === null || total === pageTotal, `X-Total-Count changed between pages: ${total} then ${pageTotal}`);
    total = pageTotal;
    check(res.data.length <= limit, `${res.data.length} items in a page of limit ${limit}`);
    items.push(...res.data);
    if (res.data.length < limit) break;
    offset += limit;
    check(offset <= total + limit, 'paging does not end');
  }
  check(items.length === total, `the pages hold ${items.length} items, X-Total-Count says ${total}`);
  return [items, total];
}

// Whether rows (arrays of strings) are in the order of their fields, each ascending or
// descending; byte order or case-insensitive order are both accepted.
function isSorted(rows, descending) {
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  for (const norm of [(s) => s, (s) => s.toLowerCase()]) {
    const keys = rows.map((row) => row.map((v) => norm(v || '')));
    const expected = [...keys];
    for (let i = descending.length - 1; i >= 0; i--) {
      expected.sort((a, b) => (descending[i] ? -cmp(a[i], b[i]) : cmp(a[i], b[i])));
    }
    if (JSON.stringify(expected) === JSON.stringify(keys)) return true;
  }
  return false;
}

const baseurl = env('RECERT_SDK_BASE_URL').replace(/\/+$/, '');
const certId = env('RECERT_SDK_CERT_ID');
const otherCertId = env('RECERT_SDK_OTHER_CERT_ID');
const reassignTo = env('RECERT_SDK_REASSIGN_TO');
const credentials = {};
for (const who of ['ADMIN', 'REVIEWER', 'OTHER']) {
  credentials[who] = [env(`RECERT_SDK_${who}_ID`), env(`RECERT_SDK_${who}_SECRET`)];
}
console.log(`----  [${LABEL}] certification ${certId} at ${baseurl}`);

// -- Tokens ------------------------------------------------------------------------------------
const configs = await step('token: Configuration(baseurl, clientId, clientSecret, tokenUrl) fetches one per client', async () => {
  const out = {};
  for (const [who, [clientId, clientSecret]] of Object.entries(credentials)) {
    const config = new Configuration({ baseurl, clientId, clientSecret, tokenUrl: `${baseurl}/oauth/token` });
    let token;
    try {
      token = await config.accessToken;
    } catch (e) {
      throw new Failed(`no access token for the ${who} client ${clientId}: ${e.message}`);
    }
    check(typeof token === 'string' && token, `no access token for the ${who} client ${clientId}`);
    out[who] = config;
  }
  return out;
});
const certs = new CertificationsApi(configs.REVIEWER);
const other = new CertificationsApi(configs.OTHER);
const admin = new CertificationsApi(configs.ADMIN);
const campaigns = new CertificationCampaignsApi(configs.ADMIN);
const getCert = async (id = certId) => (await certs.getIdentityCertification({ id })).data;
const listItems = async (params) => (await certs.listIdentityAccessReviewItems({ id: certId, ...params })).data;
const listItemsRaw = (params) => certs.listIdentityAccessReviewItems({ id: certId, ...params });
const decide = async (reviewDecision) => (await certs.makeIdentityDecision({ id: certId, reviewDecision })).data;

// -- Reading -------------------------------------------------------------------------------------
await step('list certifications (reviewer-identity=me, every page, count=true)', async () => {
  const [mine] = await walk((p) => certs.listIdentityCertifications(p), { reviewerIdentity: 'me' });
  const ids = mine.map((c) => c.id);
  check(ids.includes(certId), `${certId} is not among the reviewer's ${ids.length} certifications`);
  check(!ids.includes(otherCertId), "the other reviewer's certification is listed as the reviewer's");
  check(new Set(ids).size === ids.length, 'a certification is listed twice');
  check(new Set(mine.map((c) => c.reviewer.id)).size === 1, 'certifications of several reviewers listed for me');
  const only = (await certs.listIdentityCertifications({ reviewerIdentity: 'me', filters: `id eq "${certId}"` })).data;
  check(only.length === 1 && only[0].id === certId, `filters id eq: ${only.map((c) => c.id)}`);
});

const cert0 = await step('get certification', async () => {
  const c = await getCert();
  check(c.id === certId, `id ${c.id}`);
  check(c.phase === 'ACTIVE', `phase ${c.phase}, expected ACTIVE`);
  check(c.signed === null || c.signed === undefined, `signed ${c.signed}`);
  check(c.campaign && c.campaign.id, 'no campaign');
  check(c.reviewer && c.reviewer.id, 'no reviewer');
  check(c.decisionsTotal >= 8, `decisionsTotal ${c.decisionsTotal}: the run needs at least 8 items`);
  check(c.decisionsTotal - c.decisionsMade >= 8, `only ${c.decisionsTotal - c.decisionsMade} undecided items: the run needs 8`);
  return c;
});

const [items, total] = await step(`list access review items (limit ${PAGE}, every page, count=true, X-Total-Count)`, async () => {
  const [all, n] = await walk(listItemsRaw, {}, PAGE);
  check(n === cert0.decisionsTotal, `X-Total-Count ${n}, decisionsTotal ${cert0.decisionsTotal}`);
  check(new Set(all.map((i) => i.id)).size === n, 'an item appears on two pages');
  for (const i of all) {
    check(i.id && i.identitySummary && i.identitySummary.identityId, `item without ids: ${JSON.stringify(i)}`);
    const a = i.accessSummary && i.accessSummary.access;
    check(a && a.type && a.id && a.name, `item ${i.id} without accessSummary.access`);
  }
  const identities = new Set(all.map((i) => i.identitySummary.id));
  check(identities.size >= 2, `the items cover ${identities.size} identity: the run needs several`);
  check(identities.size === cert0.identitiesTotal, `${identities.size} identity summaries in the items, identitiesTotal ${cert0.identitiesTotal}`);
  const past = await listItems({ limit: PAGE, offset: n });
  check(Array.isArray(past) && past.length === 0, `offset at the end answered ${past.length} items`);
  return [all, n];
});

const openItems = await step('filter completed eq false (count=true)', async () => {
  const [open, n] = await walk(listItemsRaw, { filters: 'completed eq false' });
  check(open.every((i) => i.completed === false), 'a completed item passed `completed eq false`');
  check(n === cert0.decisionsTotal - cert0.decisionsMade, `${n} undecided, decisionsTotal - decisionsMade = ${cert0.decisionsTotal - cert0.decisionsMade}`);
  return open;
});

const names = (i) => [i.accessSummary.access.name, i.identitySummary.name];
for (const [sorters, fields, desc] of [
  ['access.name', [0], [false]],
  ['-identitySummary.name', [1], [true]],
  ['access.name,-identitySummary.name', [0, 1], [false, true]],
]) {
  await step(`sorters ${sorters}`, async () => {
    const [sorted] = await walk(listItemsRaw, { sorters });
    const rows = sorted.map((i) => fields.map((f) => names(i)[f]));
    check(rows.length === total, `${rows.length} items sorted, ${total} in all`);
    check(isSorted(rows, desc), `not in order: ${JSON.stringify(rows.slice(0, 12))}`);
  });
}

await step('list reviewers of the certification', async () => {
  const reviewers = (await certs.listCertificationReviewers({ id: certId })).data;
  check(reviewers.some((r) => r.id === cert0.reviewer.id), `the reviewer ${cert0.reviewer.id} is not among ${reviewers.map((r) => r.id)}`);
  check(reviewers.every((r) => r.name), 'a reviewer without a name');
});

const entitlement = items.find((i) => i.accessSummary.access.type === 'ENTITLEMENT');
if (!entitlement) {
  console.log(`NOTE  [${LABEL}] no ENTITLEMENT item in the certification: item permissions not checked`);
} else {
  await step('get item permissions of an entitlement item', async () => {
    const perms = (await certs.getIdentityCertificationItemPermissions({ certificationId: certId, itemId: entitlement.id })).data;
    check(Array.isArray(perms), `not a list: ${JSON.stringify(perms)}`);
    check(perms.every((p) => Array.isArray(p.rights) && p.target), `malformed permissions: ${JSON.stringify(perms)}`);
  });
}

// -- Deciding ------------------------------------------------------------------------------------
const pick = openItems.slice(0, 6).map((i) => i.id);
const [approve, revoke, syncItem, asyncItem] = [pick.slice(0, 3), pick[3], pick[4], pick[5]];
const decisions = approve.map((id) => ({ id, decision: 'APPROVE', bulk: true, comments: 'still needed' }));
decisions.push({ id: revoke, decision: 'REVOKE', bulk: false, comments: 'no longer needed', proposedEndDate: new Date(Date.UTC(2031, 0, 1)).toISOString() });

const after = await step('decide: APPROVE 3 items, REVOKE 1 with comments', async () => {
  const c = await decide(decisions);
  check(c.id === certId, `answered certification ${c.id}`);
  check(c.decisionsMade === cert0.decisionsMade + 4, `decisionsMade ${cert0.decisionsMade} -> ${c.decisionsMade}, expected +4`);
  const revoked = await listItems({ filters: `id eq "${revoke}"` });
  check(revoked.length === 1 && revoked[0].completed === true && revoked[0].decision === 'REVOKE', `the revoked item reads ${JSON.stringify(revoked)}`);
  check(revoked[0].comments === 'no longer needed', `comments ${JSON.stringify(revoked[0].comments)}`);
  return c;
});

const again = await step('decide the same items again: no counter changes', async () => {
  const c = await decide(decisions);
  for (const field of ['decisionsMade', 'decisionsTotal', 'identitiesCompleted', 'identitiesTotal']) {
    check(c[field] === after[field], `${field} ${after[field]} -> ${c[field]}`);
  }
  return c;
});

// -- Reassigning ---------------------------------------------------------------------------------
await step('reassign (synchronous) one ITEM with a reason', async () => {
  const reviewReassign = { reassign: [{ id: syncItem, type: 'ITEM' }], reassignTo, reason: 'moved to the application owner' };
  const moved = (await certs.reassignIdentityCertifications({ id: certId, reviewReassign })).data;
  check(moved.id === certId, `answered certification ${moved.id}`);
  check(moved.decisionsTotal === again.decisionsTotal - 1, `decisionsTotal ${again.decisionsTotal} -> ${moved.decisionsTotal}, expected -1`);
  check((await listItems({ filters: `id eq "${syncItem}"` })).length === 0, 'the item is still listed');
  const [, left] = await walk(listItemsRaw, {});
  check(left === moved.decisionsTotal, `X-Total-Count ${left}, decisionsTotal ${moved.decisionsTotal}`);
});

let task = await step('reassign-async one ITEM: a CertificationTask of type REASSIGN', async () => {
  const reviewReassign = { reassign: [{ id: asyncItem, type: 'ITEM' }], reassignTo, reason: 'moved asynchronously' };
  const t = (await certs.submitReassignCertsAsync({ id: certId, reviewReassign })).data;
  check(t.id, 'no task id');
  check(t.type === 'REASSIGN', `type ${t.type}`);
  check(t.targetType === 'CERTIFICATION' && t.targetId === certId, `target ${t.targetType} ${t.targetId}`);
  check(['QUEUED', 'IN_PROGRESS', 'SUCCESS'].includes(t.status), `status ${t.status}`);
  return t;
});

await step('list pending certification tasks (reviewer-identity=me)', async () => {
  const pending = (await certs.getPendingCertificationTasks({ reviewerIdentity: 'me' })).data;
  check(pending.every((t) => ['QUEUED', 'IN_PROGRESS'].includes(t.status)), `a task that is not pending: ${JSON.stringify(pending.map((t) => [t.id, t.status]))}`);
  const forCert = (await certs.getPendingCertificationTasks({ filters: `targetId eq "${certId}"` })).data;
  check(forCert.every((t) => t.targetId === certId), 'filters targetId eq let another task through');
});

await step('poll getCertificationTask until SUCCESS (60 s)', async () => {
  const deadline = Date.now() + 60_000;
  while (task.status !== 'SUCCESS') {
    check(task.status !== 'ERROR', `the task ended ERROR: ${JSON.stringify(task.errors)}`);
    check(Date.now() < deadline, `still ${task.status} after 60 s`);
    await sleep(500);
    task = (await certs.getCertificationTask({ id: task.id })).data;
    check(task.type === 'REASSIGN' && task.targetId === certId, `the task now reads ${JSON.stringify(task)}`);
  }
  check((await listItems({ filters: `id eq "${asyncItem}"` })).length === 0, 'the item is still listed');
});

// -- Refusals ------------------------------------------------------------------------------------
const [remaining, remainingCount] = await step('count the undecided items', async () => {
  const out = await walk(listItemsRaw, { filters: 'completed eq false' });
  check(out[0].length > 0, 'nothing left to decide');
  return out;
});

await step('decide an unknown item id -> 400', () =>
  expectError(400, () => decide([{ id: hex32(), decision: 'APPROVE', bulk: true, comments: 'x' }])));

await step('decide 251 decisions -> 400 naming the limit', async () => {
  const many = Array.from({ length: MAX + 1 }, () => ({ id: hex32(), decision: 'APPROVE', bulk: true }));
  const text = await expectError(400, () => decide(many));
  check(text.includes('250'), `the message does not say the limit: ${text}`);
});

await step('reassign without a reason -> 400', () =>
  expectError(400, () => certs.reassignIdentityCertifications({
    id: certId, reviewReassign: { reassign: [{ id: remaining[0].id, type: 'ITEM' }], reassignTo },
  })));

await step('sign off while items are undecided -> 400 saying how many', async () => {
  const text = await expectError(400, () => certs.signOffIdentityCertification({ id: certId }));
  check(new RegExp(`\\b${remainingCount}\\b`).test(text), `the message does not say ${remainingCount}: ${text}`);
});

await step('filters on an unknown field -> 400 naming it', async () => {
  const text = await expectError(400, () => listItems({ filters: 'bogusField eq "x"' }));
  check(text.includes('bogusField'), `the message does not name the field: ${text}`);
});

await step('limit 251 -> 400', () => expectError(400, () => listItems({ limit: MAX + 1 })));

await step("the reviewer reads the other reviewer's certification -> 403", async () => {
  await expectError(403, () => getCert(otherCertId));
  await expectError(403, () => certs.listIdentityAccessReviewItems({ id: otherCertId }));
});

await step('the other reviewer reads its own certification, and this one -> 403', async () => {
  check((await other.getIdentityCertification({ id: otherCertId })).data.id === otherCertId, 'wrong certification');
  await expectError(403, () => other.getIdentityCertification({ id: certId }));
});

await step('an unknown certification id -> 404', () => expectError(404, () => getCert(hex32())));

// -- Finishing -----------------------------------------------------------------------------------
await step('decide every remaining item (batches of at most 250)', async () => {
  for (let round = 0; round < 1000; round++) {
    const batch = await listItems({ filters: 'completed eq false', limit: MAX });
    if (batch.length === 0) break;
    await decide(batch.map((i) => ({ id: i.id, decision: 'APPROVE', bulk: true, comments: 'reviewed' })));
  }
  const done = await getCert();
  check(done.completed === true, 'completed is not true');
  check(done.decisionsMade === done.decisionsTotal, `${done.decisionsMade} of ${done.decisionsTotal} decided`);
  check(done.identitiesCompleted === done.identitiesTotal, `${done.identitiesCompleted} of ${done.identitiesTotal} identities completed`);
});

await step('sign off -> SIGNED', async () => {
  const signed = (await certs.signOffIdentityCertification({ id: certId })).data;
  check(signed.id === certId && signed.phase === 'SIGNED', `phase ${signed.phase}`);
  check(typeof signed.signed === 'string' && !Number.isNaN(Date.parse(signed.signed)), `signed ${signed.signed}`);
  check((await getCert()).phase === 'SIGNED', 'a later read is not SIGNED');
});

await step('decide after sign-off -> 400', () =>
  expectError(400, () => decide([{ id: approve[0], decision: 'REVOKE', bulk: true, comments: 'late' }])));

// -- Administrator -------------------------------------------------------------------------------
await step('admin: list campaigns (getActiveCampaigns) and get the certification\'s campaign', async () => {
  const campaignId = cert0.campaign.id;
  const [listed] = await walk((p) => campaigns.getActiveCampaigns(p), {});
  check(listed.some((c) => c.id === campaignId), 'the campaign is not listed');
  const one = (await campaigns.getActiveCampaigns({ filters: `id eq "${campaignId}"` })).data;
  check(one.length === 1 && one[0].id === campaignId, 'filters id eq');
  const campaign = (await campaigns.getCampaign({ id: campaignId })).data;
  check(campaign.id === campaignId && campaign.name, `getCampaign read ${JSON.stringify(campaign)}`);
});

await step('admin: get any certification', async () => {
  check((await admin.getIdentityCertification({ id: certId })).data.phase === 'SIGNED', 'not SIGNED for the admin');
  check((await admin.getIdentityCertification({ id: otherCertId })).data.id === otherCertId, 'wrong certification');
});

console.log(`DONE  [${LABEL}] the complete review passed`);
