// Shim for @roo-code/telemetry: TelemetryService.instance.captureEvent is a no-op.
// Errors are also echoed to stderr so the harness never fails silently.
class TelemetryService {
  static instance = new TelemetryService()
  captureEvent(name, props) { process.stderr.write(`[telemetry-shim] ${name} ${JSON.stringify(props)}\n`) }
  captureException() {}
}
module.exports = { TelemetryService }
