// TypeScript: an app with CSRF protection, helmet and HTTPS.
import express, { Request, Response } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import https from 'https';
import { doubleCsrf } from 'csrf-csrf';

// ok: web.js-x-powered-by-enabled
const app: express.Express = express();
app.use(helmet());
const { doubleCsrfProtection } = doubleCsrf({ getSecret: () => process.env.CSRF_SECRET as string });

// near miss (not reported): web.js-session-without-csrf-protection, csrf-csrf protects the session (tests/rules/test_rules_web.py)
app.use(session({ secret: process.env.SESSION_SECRET as string, cookie: { secure: true } }));
app.use(doubleCsrfProtection);

app.get('/', (req: Request, res: Response) => {
  res.render('index');
});

https.createServer({ key: process.env.KEY, cert: process.env.CERT }, app).listen(443);

// ruleid: web.js-x-powered-by-enabled
const admin = express();
admin.listen(8081);
