import { strictFn } from '../../../test/helpers/controller-app';
import { KeyringService } from '../../crypto/keyring.service';
import { KeyUnavailableError } from '../../crypto/sealed.error';
import { OutboundHttp } from '../../outbound/outbound-http';
import { OutboundRefusedError, OutboundRequestError } from '../../outbound/outbound.errors';
import { verifySignature } from '../../outbound/webhook-signature';
import { WebhookDelivery } from '../entities/webhook-delivery.entity';
import { DeliverySender } from './delivery-sender';

const SECRET = 'whsec_0123456789';
const EVENT = { id: '42', type: 'rotation.succeeded', data: { version: 2 } };

describe('DeliverySender', () => {
  const http = { send: strictFn('OutboundHttp.send') };
  const keyring = { openValue: jest.fn(() => SECRET) };
  const sut = new DeliverySender(
    http as unknown as OutboundHttp,
    keyring as unknown as KeyringService,
  );
  const claimed = {
    delivery: Object.assign(new WebhookDelivery(), {
      id: 'd-1',
      subscriptionId: 's-1',
      eventType: 'rotation.succeeded',
      payload: JSON.stringify(EVENT),
      attempts: 0,
    }),
    url: 'https://hooks.example.com/custos',
    secretSealed: 'k1:sealed',
  };

  beforeEach(() => jest.clearAllMocks());

  it('should POST {deliveryId, subscriptionId, event} signed with the opened secret', async () => {
    http.send.mockResolvedValueOnce({ status: 202 });

    expect(await sut.send(claimed)).toEqual({ ok: true, statusCode: 202 });

    expect(keyring.openValue).toHaveBeenCalledWith(
      'webhook',
      'k1:sealed',
      'webhook-subscription:s-1',
    );
    const [call] = http.send.mock.calls[0];
    expect(JSON.parse(call.body)).toEqual({
      deliveryId: 'd-1',
      subscriptionId: 's-1',
      event: EVENT,
    });
    expect(call.headers).toMatchObject({
      'x-custos-delivery': 'd-1',
      'x-custos-event': 'rotation.succeeded',
    });
    expect(verifySignature(call.headers['x-custos-signature'], SECRET, call.body)).toBe(true);
  });

  it.each([
    [
      'a 500',
      () => http.send.mockResolvedValueOnce({ status: 500 }),
      { statusCode: 500, error: 'HTTP 500', permanent: false },
    ],
    [
      'a redirect',
      () => http.send.mockResolvedValueOnce({ status: 302 }),
      { statusCode: 302, error: 'HTTP 302', permanent: false },
    ],
    [
      'a timeout',
      () =>
        http.send.mockRejectedValueOnce(new OutboundRequestError('h did not answer within 10 ms')),
      { statusCode: null, error: 'h did not answer within 10 ms', permanent: false },
    ],
    [
      'a refused address',
      () =>
        http.send.mockRejectedValueOnce(
          new OutboundRefusedError('h resolves to 10.0.0.1 is a private address'),
        ),
      { statusCode: null, error: expect.stringContaining('private address'), permanent: true },
    ],
  ])('should report %s as a failed attempt without throwing', async (_case, arrange, result) => {
    arrange();
    expect(await sut.send(claimed)).toEqual({ ok: false, ...result });
  });

  it('should send nothing and give the delivery back when this instance cannot open the secret', async () => {
    keyring.openValue.mockImplementationOnce(() => {
      throw new KeyUnavailableError('k1');
    });

    expect(await sut.send(claimed)).toEqual({
      ok: false,
      unsent: true,
      error: 'Master key "k1" is not configured on this instance',
    });
    expect(http.send).not.toHaveBeenCalled();
  });
});
