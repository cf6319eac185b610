import net from "node:net";

/**
 * A loopback server that speaks just enough of PostgreSQL's wire protocol to ask for a password
 * and refuse it, the way a real server with password authentication does. The local PostgreSQL
 * trusts every connection, so this is how a test sees a real "wrong password" end to end.
 */
export async function startPasswordRejectingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let buffered = Buffer.alloc(0);
    let greeted = false;
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!greeted) {
        if (buffered.length < 8) return;
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const code = buffered.readInt32BE(4);
        buffered = buffered.subarray(length);
        if (code === 80877103) {
          socket.write("N"); // SSLRequest: no TLS here; the client then sends its startup message.
          return;
        }
        greeted = true;
        // AuthenticationCleartextPassword
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
        return;
      }
      if (buffered[0] === 0x70)
        socket.end(errorResponse("28P01", 'password authentication failed for user "app"'));
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, "utf8");
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}
