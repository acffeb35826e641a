// SPDX-License-Identifier: Apache-2.0
// OTLP/HTTP logs receiver for the tests: decodes each request with
// OpenTelemetry's own generated protobuf root (@opentelemetry/otlp-transformer,
// pinned in package-lock.json) and prints one JSON line per log record:
//   {"resource":{k:v}, "scope":{name,version}, "time_unix_nano":"...",
//    "observed_time_unix_nano":"...", "severity_number":N, "severity_text":"...",
//    "body":..., "attributes":{k:v}}
// Usage: node receiver.js PORT_FILE. Listens on 127.0.0.1, an ephemeral port,
// written to PORT_FILE once listening. A bad request is answered 400 and
// reported on stderr (the test then sees the record missing).
'use strict';
const http = require('http');
const fs = require('fs');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');

const Req = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
const toObj = (m) =>
  Req.toObject(m, {longs: String, enums: Number, bytes: String, defaults: false});

function anyValue(v) {
  if (v == null) return null;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('arrayValue' in v) return (v.arrayValue.values || []).map(anyValue);
  if ('kvlistValue' in v) return attrs(v.kvlistValue.values);
  throw new Error('unknown AnyValue ' + JSON.stringify(v));
}
function attrs(list) {
  const o = {};
  for (const kv of list || []) {
    if (kv.key in o) throw new Error('duplicate attribute ' + kv.key);
    o[kv.key] = anyValue(kv.value);
  }
  return o;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      if (req.method !== 'POST' || req.url !== '/v1/logs') throw new Error('bad target ' + req.method + ' ' + req.url);
      const buf = Buffer.concat(chunks);
      const ctype = req.headers['content-type'] || '';
      let msg;
      if (ctype === 'application/x-protobuf') {
        msg = Req.decode(buf);
      } else if (ctype === 'application/json') {
        msg = Req.fromObject(JSON.parse(buf.toString('utf8')));
      } else {
        throw new Error('bad content-type ' + ctype);
      }
      const o = toObj(msg);
      let out = '';
      for (const rl of o.resourceLogs || []) {
        const resource = attrs(rl.resource && rl.resource.attributes);
        for (const sl of rl.scopeLogs || []) {
          for (const r of sl.logRecords || []) {
            out += JSON.stringify({
              resource,
              scope: sl.scope || null,
              time_unix_nano: r.timeUnixNano,
              observed_time_unix_nano: r.observedTimeUnixNano,
              severity_number: r.severityNumber,
              severity_text: r.severityText,
              body: anyValue(r.body),
              attributes: attrs(r.attributes),
            }) + '\n';
          }
        }
      }
      fs.writeSync(1, out);
      res.writeHead(200, {'Content-Type': ctype});
      res.end(ctype === 'application/json' ? '{}' : '');
    } catch (e) {
      process.stderr.write('receiver: ' + e.message + '\n');
      res.writeHead(400);
      res.end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2] + '.tmp', String(server.address().port));
  fs.renameSync(process.argv[2] + '.tmp', process.argv[2]);
});
