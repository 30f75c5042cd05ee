/**
 * A real WebDAV server (the npm `webdav-server` package) serving one directory on a free
 * loopback port: the entry point of the child process {@link startWebDavServer} spawns.
 *
 * Arguments: `<directory> [<username> <password>]`. With credentials, every request needs HTTP
 * Basic authentication. Prints `{"url": ...}` as its first line once listening, and exits when
 * its standard input closes (so it never outlives the test that started it). It listens on
 * `WEBDAV_HOST` when set (the cluster suite uses the node's bridge address), else on 127.0.0.1.
 */
import webdav from 'webdav-server';

const { v2 } = webdav;
const [root, username, password] = process.argv.slice(2);
const host = process.env.WEBDAV_HOST ?? '127.0.0.1';
if (root === undefined) throw new Error('usage: webdav-server-main.ts <directory> [<username> <password>]');

const options: ConstructorParameters<typeof v2.WebDAVServer>[0] = {
  hostname: host,
  port: 0,
  rootFileSystem: new v2.PhysicalFileSystem(root),
};
if (username !== undefined && password !== undefined) {
  const users = new v2.SimpleUserManager();
  const user = users.addUser(username, password, false);
  const privileges = new v2.SimplePathPrivilegeManager();
  privileges.setRights(user, '/', ['all']);
  Object.assign(options, { requireAuthentification: true, httpAuthentication: new v2.HTTPBasicAuthentication(users, 'test'), privilegeManager: privileges });
}

const server = new v2.WebDAVServer(options);
const http = await server.startAsync(0);
const address = http.address();
if (address === null || typeof address === 'string') throw new Error('the WebDAV server has no TCP address');
process.stdout.write(`${JSON.stringify({ url: `http://${host}:${address.port}/` })}\n`);

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
